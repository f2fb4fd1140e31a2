/**
 * `POST /hooks/:id`: verification on the raw bytes, challenges, body limits, de-duplication,
 * and what an event records.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { HookView, InboundEventView } from "../lib/inbound/types.ts";
import { expectStatus } from "./helpers.ts";
import { InboundHarness } from "./inbound_harness.ts";

const SECRET = "seed-001-shared-secret";

async function json(response: Response): Promise<Record<string, unknown>> {
  return await response.json();
}

async function events(t: InboundHarness, hookId: string): Promise<InboundEventView[]> {
  const answer = await t.call<InboundEventView[]>("GET", `/api/hooks/${hookId}/events`);
  expectStatus(answer, 200);
  return answer.body.data;
}

async function counters(t: InboundHarness, hookId: string) {
  const answer = await t.call<HookView>("GET", `/api/hooks/${hookId}`);
  return { received: answer.body.data.received, rejected: answer.body.data.rejected };
}

// ---------------------------------------------------------------------------------------------
// Seed 001: secret header, fast acknowledgement

Deno.test("A request with the right Secret header is stored before it is acknowledged", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({
    verification: { mode: "header_secret", header: "Secret", secret: SECRET },
  });
  const response = await t.send(hook, '{"message":"hello"}', { Secret: SECRET });
  assert.equal(response.status, 200);
  const body = await json(response);
  const eventId = (body.data as { eventId: string }).eventId;
  assert.deepEqual(body, { success: true, data: { eventId, duplicate: false } });
  assert.match(eventId, /^evt_[0-9a-f]{28}$/);
  // Committed by the time of the answer: no waiting for the queue. Storing is the whole of a
  // `store` action, so it is already done.
  const stored = await t.kv.get<InboundEventView>(["inbound_event", hook.id, eventId]);
  assert.equal(stored.value?.action.state, "succeeded");

  await t.settle();
  const [event] = await events(t, hook.id);
  assert.equal(event.id, eventId);
  assert.equal(event.body, '{"message":"hello"}');
  assert.equal(event.headers.secret, "[redacted]");
  assert.deepEqual(event.verification, { mode: "header_secret", verified: true });
  assert.equal(event.action.state, "succeeded");
  assert.equal(event.action.attempts.length, 1);
  assert.equal(event.action.attempts[0].detail, "stored");
  assert.deepEqual(await counters(t, hook.id), { received: 1, rejected: 0 });
});

Deno.test("An unverified request answers 401, is counted and is not stored", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({
    verification: { mode: "header_secret", header: "Secret", secret: SECRET },
  });
  const wrong = await t.send(hook, '{"a":1}', { Secret: "guess" });
  assert.equal(wrong.status, 401);
  const body = await json(wrong);
  assert.equal((body.error as { code: string }).code, "UNAUTHORIZED");
  const missing = await t.send(hook, '{"a":1}');
  assert.equal(missing.status, 401);
  const error = (await json(missing)).error as { message: string };
  assert.equal(error.message, "Cannot verify request: Missing Secret header");

  assert.deepEqual(await events(t, hook.id), []);
  assert.deepEqual(await counters(t, hook.id), { received: 0, rejected: 2 });
  assert.equal(t.inbound.metrics.rejected.mismatch, 1);
  assert.equal(t.inbound.metrics.rejected.missing, 1);
  assert.match(
    t.inbound.metrics.render(),
    /hibiki_inbound_unverified_total\{reason="mismatch"\} 1/,
  );
  let stored = 0;
  for await (const _ of t.kv.list({ prefix: ["inbound_body"] })) stored++;
  assert.equal(stored, 0);
});

Deno.test("A hook that does not exist, is disabled or is asked with GET does not take requests", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" }, enabled: false });
  assert.equal((await t.send(hook, "{}")).status, 404);
  assert.equal((await t.send("hook_" + "0".repeat(32), "{}")).status, 404);
  assert.equal((await t.send("not-a-hook-id", "{}")).status, 404);
  const get = await t.app.request(`/hooks/${hook.id}`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
});

// ---------------------------------------------------------------------------------------------
// Ownership challenges

Deno.test("A challenge is echoed as the bare value (seed 001) and is not stored", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({
    verification: { mode: "header_secret", header: "Secret", secret: SECRET },
    challenge: true,
  });
  const response = await t.send(
    hook,
    '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}',
    {
      Secret: SECRET,
    },
  );
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/plain/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(
    await response.text(),
    "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
  );
  assert.deepEqual(await events(t, hook.id), []);
});

Deno.test("A Slack url_verification is answered with { challenge }", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" }, challenge: true });
  const response = await t.send(
    hook,
    JSON.stringify({
      token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
      challenge: "3eZbrw1aBm",
      type: "url_verification",
    }),
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { challenge: "3eZbrw1aBm" });
});

Deno.test("A challenge must verify like any request, and is stored when challenges are off", async () => {
  await using t = await InboundHarness.start();
  const guarded = await t.createHook({
    verification: { mode: "header_secret", header: "Secret", secret: SECRET },
    challenge: true,
  });
  assert.equal((await t.send(guarded, '{"challenge":"x"}', { Secret: "nope" })).status, 401);

  const plain = await t.createHook({ verification: { mode: "none" } });
  const response = await t.send(plain, '{"challenge":"x"}');
  assert.equal(((await json(response)).data as { duplicate: boolean }).duplicate, false);
  assert.equal((await events(t, plain.id)).length, 1);
});

// ---------------------------------------------------------------------------------------------
// Body limit

Deno.test("A declared body over the hook's limit answers 413 without reading it", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" }, maxBodyBytes: 1024 });
  const response = await t.send(hook, "x".repeat(1025));
  assert.equal(response.status, 413);
  assert.equal(((await json(response)).error as { code: string }).code, "PAYLOAD_TOO_LARGE");
  assert.equal((await t.send(hook, "x".repeat(1024))).status, 200);
  assert.equal(t.inbound.metrics.tooLarge, 1);
});

Deno.test("An endless chunked body is cut off at the limit, not buffered", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" }, maxBodyBytes: 64 * 1024 });
  let produced = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      produced += 16 * 1024;
      controller.enqueue(new Uint8Array(16 * 1024));
    },
  });
  const response = await t.send(hook, endless);
  assert.equal(response.status, 413);
  assert.ok(produced <= 128 * 1024, `read ${produced} bytes of an endless body`);
  assert.deepEqual(await events(t, hook.id), []);
});

Deno.test("The default limit is 1 MiB, and a body above 480 KiB is stored whole in chunks", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" } });
  assert.equal((await t.send(hook, new Uint8Array(1024 * 1024 + 1))).status, 413);
  const big = new Uint8Array(700 * 1024).map((_, i) => i % 251);
  const response = await t.send(hook, big, { "Content-Type": "application/octet-stream" });
  assert.equal(response.status, 200);
  const [event] = await events(t, hook.id);
  assert.equal(event.bodySize, big.length);
  assert.equal(event.bodyTruncated, true);
  assert.equal(new TextEncoder().encode(event.body).length <= 4096 * 3, true);
  assert.deepEqual(await t.inbound.store.readBody(event), big);
});

// ---------------------------------------------------------------------------------------------
// Providers

Deno.test("GitHub: a signed delivery is stored once, a redelivery of its id answers duplicate", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "github", secret: "gh-secret-42" } });
  const body = '{"action":"opened","number":7}';
  const headers = {
    "X-GitHub-Event": "pull_request",
    "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "X-Hub-Signature-256": "sha256=" +
      createHmac("sha256", "gh-secret-42").update(body).digest("hex"),
  };
  const first = await json(await t.send(hook, body, headers));
  const second = await t.send(hook, body, headers);
  assert.equal(second.status, 200);
  assert.deepEqual(await second.json(), {
    success: true,
    data: { eventId: (first.data as { eventId: string }).eventId, duplicate: true },
  });
  const stored = await events(t, hook.id);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].deliveryId, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  assert.equal(stored[0].headers["x-hub-signature-256"], "[redacted]");
  assert.equal(stored[0].headers["x-github-event"], "pull_request");
  assert.deepEqual(await counters(t, hook.id), { received: 1, rejected: 0 });

  const forged = { ...headers, "X-Hub-Signature-256": "sha256=" + "0".repeat(64) };
  assert.equal((await t.send(hook, body, forged)).status, 401);
});

Deno.test("GitHub: the documented test vector verifies with its secret with spaces", async () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
  await using t = await InboundHarness.start();
  const hook = await t.createHook({
    verification: { mode: "github", secret: "It's a Secret to Everybody" },
  });
  const signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  const accepted = await t.send(hook, "Hello, World!", { "X-Hub-Signature-256": signature });
  assert.equal(accepted.status, 200);
  assert.equal((await accepted.json()).data.duplicate, false);
  const other = await t.send(hook, "Hello, World?", { "X-Hub-Signature-256": signature });
  assert.equal(other.status, 401);
  await other.body?.cancel();
  const [event] = await events(t, hook.id);
  assert.equal(event.body, "Hello, World!");
  assert.deepEqual(event.verification, { mode: "github", verified: true });
});

Deno.test("Concurrent deliveries with one id store one event", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" } });
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => t.send(hook, '{"n":1}', { "X-Webhook-ID": "same-id" })),
  );
  const bodies = await Promise.all(answers.map((r) => r.json()));
  assert.ok(answers.every((r) => r.status === 200));
  assert.equal(bodies.filter((b) => b.data.duplicate === false).length, 1);
  const eventIds = new Set(bodies.map((b) => b.data.eventId));
  assert.equal(eventIds.size, 1);
  assert.equal((await events(t, hook.id)).length, 1);
});

Deno.test("GitHub: another body under a known delivery id is stored as a conflict, not dropped", async () => {
  await using t = await InboundHarness.start();
  const secret = "gh-secret-42";
  const hook = await t.createHook({ verification: { mode: "github", secret } });
  const send = (body: string) =>
    t.send(hook, body, {
      "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      "X-Hub-Signature-256": "sha256=" + createHmac("sha256", secret).update(body).digest("hex"),
    });
  const first = await json(await send('{"action":"opened"}'));
  const firstId = (first.data as { eventId: string }).eventId;

  t.clock.advance(1000);
  const changed = await send('{"action":"closed"}');
  assert.equal(changed.status, 200, "acknowledged, so the sender does not retry forever");
  const answer = await json(changed);
  const conflictId = (answer.data as { eventId: string }).eventId;
  assert.deepEqual(answer, {
    success: true,
    data: { eventId: conflictId, duplicate: false, conflictOf: firstId },
  });
  assert.notEqual(conflictId, firstId);

  // Repeats of either body are duplicates of their own event.
  assert.deepEqual((await json(await send('{"action":"closed"}'))).data, {
    eventId: conflictId,
    duplicate: true,
  });
  assert.deepEqual((await json(await send('{"action":"opened"}'))).data, {
    eventId: firstId,
    duplicate: true,
  });

  const stored = await events(t, hook.id);
  assert.deepEqual(stored.map((e) => [e.id, e.body, e.conflictOf]), [
    [conflictId, '{"action":"closed"}', firstId],
    [firstId, '{"action":"opened"}', null],
  ]);
  const one = await t.call<InboundEventView>("GET", `/api/hooks/${hook.id}/events/${conflictId}`);
  assert.equal(one.body.data.conflictOf, firstId);
  assert.deepEqual(await counters(t, hook.id), { received: 2, rejected: 0 });
  assert.equal(t.inbound.metrics.conflicts, 1);
  assert.equal(t.inbound.metrics.duplicates, 2);
  assert.match(t.inbound.metrics.render(), /hibiki_inbound_requests_total\{outcome="conflict"\} 1/);
});

Deno.test("Concurrent deliveries with one id and two bodies store one event each, one a conflict", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" } });
  const answers = await Promise.all(
    ['{"n":1}', '{"n":2}', '{"n":1}', '{"n":2}', '{"n":1}', '{"n":2}'].map((body) =>
      t.send(hook, body, { "X-Webhook-ID": "same-id" })
    ),
  );
  assert.ok(answers.every((r) => r.status === 200));
  await Promise.all(answers.map((r) => r.json()));
  const stored = await events(t, hook.id);
  assert.equal(stored.length, 2);
  const first = stored.find((e) => e.conflictOf === null);
  const conflict = stored.find((e) => e.conflictOf !== null);
  assert.ok(first && conflict);
  assert.equal(conflict.conflictOf, first.id);
  assert.notEqual(conflict.body, first.body);
});

Deno.test("A delivery id remembered before bodies were compared is still a duplicate", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" } });
  const earlier = `evt_${"0".repeat(28)}`;
  await t.kv.set(["inbound_seen", hook.id, "old-id"], earlier);
  const answer = await t.send(hook, '{"any":"body"}', { "X-Webhook-ID": "old-id" });
  assert.deepEqual((await json(answer)).data, { eventId: earlier, duplicate: true });
  assert.equal((await events(t, hook.id)).length, 0);
});

Deno.test("Stripe: a signed event is stored once per event id, even when re-signed later", async () => {
  const secret = "whsec_stripe_test_0123456789abcdef";
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "stripe", secret } });
  const body = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"invoice.paid"}';
  const sign = (at: number) => {
    const ts = Math.floor(at / 1000);
    return `t=${ts},v1=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`;
  };
  const first = await t.send(hook, body, { "Stripe-Signature": sign(t.clock.now()) });
  assert.equal(first.status, 200);
  t.clock.advance(60_000);
  const retry = await t.send(hook, body, { "Stripe-Signature": sign(t.clock.now()) });
  assert.equal((await retry.json()).data.duplicate, true);
  const [event] = await events(t, hook.id);
  assert.equal(event.deliveryId, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
  assert.equal(event.headers["stripe-signature"], "[redacted]");

  // A captured request replayed after the tolerance is refused outright.
  const old = sign(t.clock.now());
  t.clock.advance(301_000);
  assert.equal(
    (await t.send(hook, body.replace("evt_1", "evt_2"), { "Stripe-Signature": old })).status,
    401,
  );
});

Deno.test("Standard Webhooks: the specification's test vector is accepted at its time", async () => {
  await using t = await InboundHarness.start({ now: 1614265330 * 1000 });
  const hook = await t.createHook({
    verification: { mode: "standard_webhooks", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
  });
  const headers = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };
  assert.equal((await t.send(hook, '{"test": 2432232314}', headers)).status, 200);
  assert.equal(
    (await (await t.send(hook, '{"test": 2432232314}', headers)).json()).data.duplicate,
    true,
  );
  t.clock.advance(301_000);
  assert.equal((await t.send(hook, '{"test": 2432232314}', headers)).status, 401);
  const [event] = await events(t, hook.id);
  assert.equal(event.deliveryId, "msg_p5jXN8AQM9LWM0D4loKWxJek");
  assert.equal(event.headers["webhook-signature"], "[redacted]");
});

// ---------------------------------------------------------------------------------------------
// Events

Deno.test("GET /api/hooks/:id/events lists newest first with a cursor and redacts credentials", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({
    verification: { mode: "hmac_sha256", header: "X-Sig", secret: "hmac-secret-1" },
  });
  for (let i = 0; i < 3; i++) {
    const body = JSON.stringify({ i, pad: "y".repeat(5000) });
    const sig = createHmac("sha256", "hmac-secret-1").update(body).digest("hex");
    const response = await t.send(hook, body, {
      "X-Sig": sig,
      Authorization: "Bearer abc",
      Cookie: "session=1",
      "X-Api-Key": "k",
      "User-Agent": "provider/1.0",
    });
    assert.equal(response.status, 200);
    t.clock.advance(1000);
  }
  await t.settle();
  const first = await t.call<InboundEventView[]>("GET", `/api/hooks/${hook.id}/events?limit=2`);
  assert.equal(first.body.data.length, 2);
  const rest = await t.call<InboundEventView[]>(
    "GET",
    `/api/hooks/${hook.id}/events?limit=2&cursor=${first.body.cursor}`,
  );
  const all = [...first.body.data, ...rest.body.data];
  assert.deepEqual(all.map((e) => JSON.parse(e.body.slice(0, 6) + "}").i), [2, 1, 0]);
  const event = all[0];
  assert.equal(event.bodyTruncated, true);
  assert.equal(event.body.length, 4096);
  for (const name of ["x-sig", "authorization", "cookie", "x-api-key"]) {
    assert.equal(event.headers[name], "[redacted]", name);
  }
  assert.equal(event.headers["user-agent"], "provider/1.0");
  const one = await t.call<InboundEventView>("GET", `/api/hooks/${hook.id}/events/${event.id}`);
  assert.deepEqual(one.body.data, event);
  assert.equal(
    (await t.call("GET", `/api/hooks/${hook.id}/events/evt_nope`)).status,
    404,
  );
});
