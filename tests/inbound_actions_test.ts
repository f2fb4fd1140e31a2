/**
 * Actions of inbound hooks, run from the queue: relay to a real receiver on 127.0.0.1 with
 * retries on the manual clock, run a job, and replays.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { NotFoundError } from "../lib/errors.ts";
import type { InboundEventView } from "../lib/inbound/types.ts";
import { expectError, expectStatus, storeTest } from "./helpers.ts";
import { InboundHarness, T0 } from "./inbound_harness.ts";

interface Received {
  headers: Headers;
  body: Uint8Array;
}

/**
 * A receiver on 127.0.0.1 answering each request with the next status in `statuses`, failures
 * with `failureHeaders`.
 */
function startReceiver(statuses: number[], failureHeaders: Record<string, string> = {}) {
  const received: Received[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    received.push({ headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
    const status = statuses[Math.min(received.length, statuses.length) - 1];
    return status === 200
      ? new Response("thanks")
      : new Response("try later", { status, headers: failureHeaders });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/in`,
    received,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function event(
  t: InboundHarness,
  hookId: string,
  eventId: string,
): Promise<InboundEventView> {
  const answer = await t.call<InboundEventView>("GET", `/api/hooks/${hookId}/events/${eventId}`);
  expectStatus(answer, 200);
  return answer.body.data;
}

async function sendOk(t: InboundHarness, hookId: string, body: string | Uint8Array, headers = {}) {
  const response = await t.send(hookId, body, headers);
  assert.equal(response.status, 200);
  return ((await response.json()).data as { eventId: string }).eventId;
}

storeTest(
  "A relay that fails is retried after 5 s and succeeds, re-signed by Hibiki each time",
  async (store) => {
    await using receiver = startReceiver([500, 200]);
    await using t = await InboundHarness.start({ store, allowPrivateNetworks: true });
    const hook = await t.createHook({
      verification: { mode: "none" },
      action: { type: "relay", url: receiver.url, headers: { "X-Team": "ops" } },
    });
    const body = '{"ref":"refs/heads/main","commits":[]}';
    const eventId = await sendOk(t, hook.id, body, { "X-GitHub-Delivery": "d-77" });

    await t.settle();
    let stored = await event(t, hook.id, eventId);
    assert.equal(stored.action.state, "pending");
    assert.equal(stored.action.nextAttemptAt, new Date(T0 + 5000).toISOString());
    assert.equal(stored.action.attempts.length, 1);
    assert.deepEqual(
      { ...stored.action.attempts[0], durationMs: 0 },
      {
        n: 1,
        at: new Date(T0).toISOString(),
        type: "relay",
        success: false,
        status: 500,
        durationMs: 0,
        error: "Expected status 2xx, got 500",
        detail: "try later",
      },
    );

    t.clock.advance(4999);
    await t.settle();
    assert.equal(receiver.received.length, 1);
    t.clock.advance(1);
    await t.settle();
    stored = await event(t, hook.id, eventId);
    assert.equal(stored.action.state, "succeeded");
    assert.equal(stored.action.nextAttemptAt, null);
    assert.deepEqual(stored.action.attempts.map((a) => [a.n, a.status, a.success]), [
      [1, 500, false],
      [2, 200, true],
    ]);

    const signer = new Webhook(hook.action.secret!);
    assert.equal(receiver.received.length, 2);
    for (const [i, got] of receiver.received.entries()) {
      assert.equal(new TextDecoder().decode(got.body), body);
      assert.equal(got.headers.get("content-type"), "application/json");
      assert.equal(got.headers.get("x-team"), "ops");
      assert.equal(got.headers.get("x-hibiki-hook-id"), hook.id);
      assert.equal(got.headers.get("x-hibiki-delivery-id"), "d-77");
      // The same message id on every attempt, so the receiver can de-duplicate.
      assert.equal(got.headers.get("webhook-id"), eventId);
      const timestamp = Number(got.headers.get("webhook-timestamp"));
      assert.equal(timestamp, Math.floor((T0 + 5000 * i) / 1000));
      assert.equal(
        got.headers.get("webhook-signature"),
        signer.sign(eventId, new Date(timestamp * 1000), body),
      );
    }
  },
);

Deno.test("A relay's retry is jittered and honours the target's Retry-After", async () => {
  await using plain = startReceiver([503, 200]);
  await using later = startReceiver([503, 200], { "Retry-After": "120" });
  // +0.5 of the ±10 % jitter: 5 s becomes 5.25 s.
  await using t = await InboundHarness.start({
    allowPrivateNetworks: true,
    retryJitter: () => 0.5,
  });
  const plainHook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: plain.url },
  });
  const laterHook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: later.url },
  });
  const plainEvent = await sendOk(t, plainHook.id, "{}");
  const laterEvent = await sendOk(t, laterHook.id, "{}");
  await t.settle();
  assert.equal(
    (await event(t, plainHook.id, plainEvent)).action.nextAttemptAt,
    new Date(T0 + 5250).toISOString(),
  );
  assert.equal(
    (await event(t, laterHook.id, laterEvent)).action.nextAttemptAt,
    new Date(T0 + 120_000).toISOString(),
  );

  t.clock.advance(119_999);
  await t.settle();
  assert.equal(plain.received.length, 2);
  assert.equal(later.received.length, 1);
  t.clock.advance(1);
  await t.settle();
  assert.equal(later.received.length, 2);
  assert.equal((await event(t, laterHook.id, laterEvent)).action.state, "succeeded");
});

Deno.test("A relay keeps a large body byte for byte", async () => {
  await using receiver = startReceiver([200]);
  await using t = await InboundHarness.start({ allowPrivateNetworks: true });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: receiver.url },
  });
  const big = new Uint8Array(900 * 1024).map((_, i) => (i * 7) % 256);
  await sendOk(t, hook.id, big, { "Content-Type": "application/octet-stream" });
  await t.settle();
  assert.equal(receiver.received.length, 1);
  assert.deepEqual(receiver.received[0].body, big);
  assert.equal(receiver.received[0].headers.get("content-type"), "application/octet-stream");
});

Deno.test("A relay that keeps failing stops after the retry schedule, and 410 stops at once", async () => {
  await using failing = startReceiver([503]);
  await using gone = startReceiver([410]);
  await using t = await InboundHarness.start({
    allowPrivateNetworks: true,
    retryScheduleMs: [1000, 2000],
  });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: failing.url },
  });
  const eventId = await sendOk(t, hook.id, "{}");
  for (const step of [0, 1000, 2000, 60_000]) {
    t.clock.advance(step);
    await t.settle();
  }
  const stored = await event(t, hook.id, eventId);
  assert.equal(stored.action.state, "failed");
  assert.equal(stored.action.attempts.length, 3);
  assert.equal(failing.received.length, 3);
  assert.equal(t.inbound.metrics.actions.failed, 1);

  const goneHook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: gone.url },
  });
  const goneEvent = await sendOk(t, goneHook.id, "{}");
  await t.settle();
  const ended = await event(t, goneHook.id, goneEvent);
  assert.equal(ended.action.state, "failed");
  assert.equal(ended.action.attempts.length, 1);
});

storeTest("A run action starts the job with the parsed payload", async (store) => {
  await using t = await InboundHarness.start({ store, jobs: { default: ["deploy"] } });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "run", jobId: "deploy" },
  });
  const eventId = await sendOk(t, hook.id, '{"env":{"TAG":"v1.2.3"}}');
  await t.settle();
  assert.deepEqual(t.runs, [
    { userId: "default", jobId: "deploy", payload: { env: { TAG: "v1.2.3" } }, eventId },
  ]);
  const stored = await event(t, hook.id, eventId);
  assert.equal(stored.action.state, "succeeded");
  assert.equal(stored.action.attempts[0].detail, "run run-1");
});

Deno.test("A run action whose job is gone fails at once; other errors are retried", async () => {
  let error: Error | null = new NotFoundError('Job "deploy" not found');
  await using t = await InboundHarness.start({
    jobs: { default: ["deploy"] },
    runError: () => error,
  });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "run", jobId: "deploy" },
  });
  const gone = await sendOk(t, hook.id, "{}");
  await t.settle();
  assert.equal((await event(t, hook.id, gone)).action.state, "failed");

  error = new Error("Scheduler busy");
  const busy = await sendOk(t, hook.id, "{}");
  await t.settle();
  const pending = await event(t, hook.id, busy);
  assert.equal(pending.action.state, "pending");
  assert.equal(pending.action.attempts[0].error, "Scheduler busy");
  error = null;
  t.clock.advance(5000);
  await t.settle();
  assert.equal((await event(t, hook.id, busy)).action.state, "succeeded");
  assert.equal(t.runs.length, 1);
});

storeTest("POST /api/hooks/:id/events/:eventId/replay runs the action again", async (store) => {
  await using t = await InboundHarness.start({ store, jobs: { default: ["deploy"] } });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "run", jobId: "deploy" },
  });
  const eventId = await sendOk(t, hook.id, '{"n":1}');
  await t.settle();
  t.clock.advance(60_000);
  const answer = await t.call<InboundEventView>(
    "POST",
    `/api/hooks/${hook.id}/events/${eventId}/replay`,
  );
  expectStatus(answer, 202);
  assert.equal(answer.body.data.action.state, "pending");
  await t.settle();
  assert.equal(t.runs.length, 2);
  assert.deepEqual(t.runs[1].payload, { n: 1 });
  const stored = await event(t, hook.id, eventId);
  assert.equal(stored.action.state, "succeeded");
  assert.deepEqual(stored.action.attempts.map((a) => [a.n, a.at]), [
    [1, new Date(T0).toISOString()],
    [1, new Date(T0 + 60_000).toISOString()],
  ]);
  expectError(
    await t.call("POST", `/api/hooks/${hook.id}/events/evt_${"0".repeat(28)}/replay`),
    404,
    "NOT_FOUND",
  );
});

Deno.test("A conflicting body under a known delivery id is held, not relayed, until replayed", async () => {
  await using receiver = startReceiver([200]);
  await using t = await InboundHarness.start({ allowPrivateNetworks: true });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: receiver.url },
  });
  const firstId = await sendOk(t, hook.id, '{"v":1}', { "X-Webhook-ID": "msg-1" });
  const conflictId = await sendOk(t, hook.id, '{"v":2}', { "X-Webhook-ID": "msg-1" });
  await t.settle();
  assert.equal(receiver.received.length, 1);
  const held = await event(t, hook.id, conflictId);
  assert.equal(held.conflictOf, firstId);
  assert.deepEqual(held.action, {
    state: "held",
    nextAttemptAt: null,
    attemptsInRound: 0,
    attempts: [],
  });

  const replayed = await t.call("POST", `/api/hooks/${hook.id}/events/${conflictId}/replay`);
  expectStatus(replayed, 202);
  await t.settle();
  assert.equal(receiver.received.length, 2);
  assert.equal(new TextDecoder().decode(receiver.received[1].body), '{"v":2}');
  assert.equal((await event(t, hook.id, conflictId)).action.state, "succeeded");
});

Deno.test("Deleting a hook drops its queued actions", async () => {
  await using receiver = startReceiver([500]);
  await using t = await InboundHarness.start({ allowPrivateNetworks: true });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: receiver.url },
  });
  await sendOk(t, hook.id, "{}");
  await t.settle();
  expectStatus(await t.call("DELETE", `/api/hooks/${hook.id}`), 200);
  t.clock.advance(5000);
  await t.settle();
  assert.equal(receiver.received.length, 1);
  let queued = 0;
  for await (const _ of t.kv.list({ prefix: ["inbound_due"] })) queued++;
  for await (const _ of t.kv.list({ prefix: ["inbound_lease"] })) queued++;
  assert.equal(queued, 0);
});
