/**
 * Webhook deliveries for real: the real probe sends them over HTTP to receivers on 127.0.0.1,
 * which keep every byte. The clock is the harness's ManualClock and retry jitter is pinned,
 * so retry times are exact and the next attempt is triggered by moving the clock and
 * draining, never by sleeping. Only the deadline test waits on the wall clock: what it checks
 * is the wall clock.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import type { JobView } from "../lib/store/types.ts";
import type { DeliveryView, WebhookView } from "../lib/webhooks/types.ts";
import { expectStatus, type StoreKind, storeTest, T0, TestSystem } from "./helpers.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import {
  closedPort,
  headerObject,
  hmacOfBytes,
  type Received,
  type Receiver,
  type Reply,
  startReceiver,
  verifyWebhookSignature,
} from "./webhook_receiver.ts";

const CUSTOM = { "Authorization": "Bearer your-token", "X-Custom-Header": "value" };
/** The default HIBIKI_WEBHOOK_RETRY_SCHEDULE. */
const SCHEDULE = [
  5_000,
  30_000,
  120_000,
  600_000,
  1_800_000,
  3_600_000,
  10_800_000,
  21_600_000,
  43_200_000,
];
const DAY = 86_400_000;

interface Setup {
  t: TestSystem;
  /** Where the webhook points. */
  receiver: Receiver;
  /** What the job requests. */
  target: Receiver;
  job: JobView;
  secret: string;
  [Symbol.asyncDispose](): Promise<void>;
}

interface SetupOptions {
  /** Deno KV by default. */
  store?: StoreKind;
  reply?: (request: Received, index: number) => Reply;
  env?: Record<string, string>;
  now?: number;
  jobUrl?: string;
}

/** A system on the real network, a job against a local target and a webhook to a receiver. */
/**
 * Now by the wall clock (standardwebhooks checks webhook-timestamp against it, ±5 min), moved to
 * the middle of its 5-minute slot: 2.5 min from the job's fires (every 5 minutes) on either side, further
 * than the scheduler claims ahead, so no scheduled fire joins the test's own deliveries.
 */
function wallClockBetweenFires(): number {
  const slot = 5 * 60_000;
  return Math.floor(Date.now() / slot) * slot + slot / 2;
}

async function setup(options: SetupOptions = {}): Promise<Setup> {
  const receiver = startReceiver(options.reply);
  const target = startReceiver(() =>
    new Response('{"status":"ok","uptime":12345}', {
      headers: { "content-type": "application/json", "x-response-time": "25ms" },
    })
  );
  const t = await TestSystem.start({
    store: options.store,
    realProbe: true,
    retryJitter: () => 0,
    now: options.now ?? T0,
    env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", ...options.env },
  });
  const job = await t.createJob({
    name: "API Health Check",
    url: options.jobUrl ?? `${target.origin}/health`,
    schedule: "*/5 * * * *",
    timezone: "Asia/Tokyo",
    headers: { "Authorization": "Bearer token123" },
  });
  const created = await t.call<WebhookView>("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: receiver.url, headers: CUSTOM },
  });
  expectStatus(created, 201);
  return {
    t,
    receiver,
    target,
    job,
    secret: created.body.data.secret,
    async [Symbol.asyncDispose]() {
      try {
        await t[Symbol.asyncDispose]();
      } finally {
        await receiver.close();
        await target.close();
      }
    },
  };
}

/** Runs the job by hand (POST /api/jobs/:id/run) and lets the run and its delivery finish. */
async function runJob(s: Setup): Promise<void> {
  expectStatus(await s.t.call("POST", `/api/jobs/${s.job.id}/run`), 202);
  await s.t.settle();
}

async function sendTest(s: Setup): Promise<DeliveryView> {
  const answer = await s.t.call<DeliveryView>("POST", `/api/webhooks/${s.job.id}/test`);
  expectStatus(answer, 202);
  await s.t.settle();
  return answer.body.data;
}

async function deliveries(s: Setup): Promise<DeliveryView[]> {
  const answer = await s.t.call<DeliveryView[]>("GET", `/api/webhooks/${s.job.id}/deliveries`);
  expectStatus(answer, 200);
  return answer.body.data;
}

async function delivery(s: Setup, id: string): Promise<DeliveryView> {
  const answer = await s.t.call<DeliveryView>("GET", `/api/deliveries/${id}`);
  expectStatus(answer, 200);
  return answer.body.data;
}

/** When the next attempt is due, as the clock counts: the API answers ISO 8601. */
function due(delivery: DeliveryView): number {
  assert.ok(delivery.nextAttemptAt, `delivery ${delivery.id} has no next attempt`);
  return Date.parse(delivery.nextAttemptAt);
}

const iso = (ms: number) => new Date(ms).toISOString();

async function webhook(s: Setup): Promise<WebhookView> {
  const answer = await s.t.call<WebhookView>("GET", `/api/webhooks/${s.job.id}`);
  expectStatus(answer, 200);
  return answer.body.data;
}

function status(code: number, headers?: Record<string, string>): () => Response {
  return () => new Response(`answered ${code}`, { status: code, headers });
}

function payloadOf(request: Received): Record<string, unknown> {
  return JSON.parse(request.text);
}

function randomSecret(): string {
  return "whsec_" + crypto.getRandomValues(new Uint8Array(32)).toBase64();
}

// ---------------------------------------------------------------------------------------------
// Payload and headers

storeTest(
  "a run's delivery reaches the receiver as one POST with exactly the seed's payload",
  async (store) => {
    await using s = await setup({ store });
    await runJob(s);
    assert.equal(s.target.received.length, 1, "the job's target was requested once");
    assert.equal(s.receiver.received.length, 1, "the receiver got one delivery");
    const request = s.receiver.received[0];
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/hook");

    const payload = payloadOf(request);
    assert.deepEqual(Object.keys(payload).sort(), ["id", "job", "result", "webhook"]);
    assert.match(payload.id as string, /^wh_/);

    const job = payload.job as Record<string, unknown>;
    assert.deepEqual(Object.keys(job).sort(), [
      "body",
      "count",
      "createdAt",
      "enabled",
      "headers",
      "id",
      "lastRunAt",
      "method",
      "name",
      "nextRunAt",
      "schedule",
      "timezone",
      "updatedAt",
      "url",
      "userId",
    ]);
    // The job as the API shows it after the run, minus the fields the seed does not send.
    const after = await s.t.call<JobView>("GET", `/api/jobs/${s.job.id}`);
    const view = after.body.data as unknown as Record<string, unknown>;
    assert.deepEqual(job, Object.fromEntries(Object.keys(job).map((name) => [name, view[name]])));
    assert.equal(job.count, 1);
    assert.equal(job.lastRunAt, new Date(T0).toISOString());
    assert.equal(job.name, "API Health Check");
    assert.deepEqual(job.headers, { "Authorization": "Bearer token123" });
    assert.equal(job.body, null);

    const result = payload.result as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), [
      "code",
      "durationMs",
      "finishedAt",
      "response",
      "startedAt",
      "status",
      "trigger",
    ]);
    assert.equal(result.status, "success");
    assert.equal(result.code, 200);
    assert.equal(result.trigger, "MANUAL");
    const response = result.response as { headers: Record<string, string>; body: string };
    assert.deepEqual(Object.keys(response).sort(), ["body", "headers"]);
    assert.equal(response.body, '{"status":"ok","uptime":12345}');
    assert.equal(response.headers["content-type"], "application/json");
    assert.equal(response.headers["x-response-time"], "25ms");
    assert.equal(result.startedAt, new Date(T0).toISOString());
    assert.equal(typeof result.durationMs, "number");
    assert.equal(
      Date.parse(result.finishedAt as string) - Date.parse(result.startedAt as string),
      result.durationMs,
    );

    assert.deepEqual(payload.webhook, { sendAt: new Date(T0).toISOString() });
  },
);

Deno.test("a run whose request got no answer is delivered with code 0 and status failure", async () => {
  await using s = await setup({ jobUrl: `http://127.0.0.1:${closedPort()}/health` });
  await runJob(s);
  assert.equal(s.receiver.received.length, 1);
  const result = payloadOf(s.receiver.received[0]).result as Record<string, unknown>;
  assert.equal(result.status, "failure");
  assert.equal(result.code, 0);
  assert.deepEqual(result.response, { headers: {}, body: "" });
  assert.equal(result.trigger, "MANUAL");
});

storeTest("a scheduled run is delivered with trigger AUTO", async (store) => {
  await using s = await setup({ store });
  const fireAt = T0 + 5 * 60_000; // "*/5 * * * *"
  s.t.clock.set(fireAt - 30_000);
  // The minute tick, as Deno.cron calls it: nothing has ticked yet, so it claims.
  assert.notEqual(await s.t.system.cronTick(), null);
  s.t.clock.set(fireAt);
  await s.t.settle();
  assert.equal(s.receiver.received.length, 1);
  const payload = payloadOf(s.receiver.received[0]);
  const result = payload.result as Record<string, unknown>;
  assert.equal(result.trigger, "AUTO");
  assert.equal(result.startedAt, new Date(fireAt).toISOString());
  const job = payload.job as Record<string, unknown>;
  assert.equal(job.lastRunAt, new Date(fireAt).toISOString());
  assert.equal(job.nextRunAt, new Date(fireAt + 5 * 60_000).toISOString());
});

Deno.test("a test send's payload places the job's next run time by the injected clock", async () => {
  // payloadJob() computes nextRunAt of a test send from Date.now(), not the injected clock.
  await using s = await setup();
  await sendTest(s);
  const job = payloadOf(s.receiver.received[0]).job as Record<string, unknown>;
  const view = await s.t.call<JobView>("GET", `/api/jobs/${s.job.id}`);
  assert.equal(job.nextRunAt, view.body.data.nextRunAt);
  assert.equal(job.nextRunAt, new Date(T0 + 5 * 60_000).toISOString());
});

Deno.test("a delivery carries Content-Type, X-Webhook-ID, X-Signature, the custom and the webhook-* headers", async () => {
  await using s = await setup();
  await runJob(s);
  const { headers, text } = s.receiver.received[0];
  const id = (JSON.parse(text) as { id: string }).id;
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(headers.get("x-webhook-id"), id);
  assert.match(headers.get("x-signature")!, /^[0-9a-f]{64}$/);
  assert.equal(headers.get("authorization"), "Bearer your-token");
  assert.equal(headers.get("x-custom-header"), "value");
  assert.equal(headers.get("webhook-id"), id);
  assert.equal(headers.get("webhook-timestamp"), String(Math.floor(T0 / 1000)));
  assert.match(headers.get("webhook-signature")!, /^v1,[A-Za-z0-9+/]+={0,2}$/);
  assert.equal(headers.get("x-webhook-test"), null, "only test sends are marked as tests");
});

Deno.test("a test send delivers a payload with test: true and the header X-Webhook-Test: true", async () => {
  await using s = await setup();
  const sent = await sendTest(s);
  assert.equal(s.target.received.length, 0, "a test send does not run the job");
  assert.equal(s.receiver.received.length, 1);
  const request = s.receiver.received[0];
  assert.equal(request.headers.get("x-webhook-test"), "true");
  const payload = payloadOf(request);
  assert.equal(payload.test, true);
  assert.equal(payload.id, sent.id);
  assert.equal(request.headers.get("x-webhook-id"), sent.id);
  assert.ok(verifyWebhookSignature(request.text, request.headers.get("x-signature")!, s.secret));
  assert.equal((await delivery(s, sent.id)).state, "succeeded");
});

// ---------------------------------------------------------------------------------------------
// Signatures

Deno.test("the seed's Node.js verification code accepts every delivery, and rejects a wrong secret", async () => {
  // Some failures first, so attempts with different sendAt (different bytes) are checked too.
  await using s = await setup({ reply: (_, i) => i < 2 ? status(500)() : new Response("OK") });
  await runJob(s);
  const [first] = await deliveries(s);
  s.t.clock.set(due(first));
  await s.t.settle();
  s.t.clock.set(due(await delivery(s, first.id)));
  await s.t.settle();
  await sendTest(s);
  assert.equal(s.receiver.received.length, 4);

  const sentBodies = s.t.probed.filter((r) => r.url === s.receiver.url).map((r) => r.body);
  for (const [i, request] of s.receiver.received.entries()) {
    const signature = request.headers.get("x-signature")!;
    assert.ok(verifyWebhookSignature(request.text, signature, s.secret), `delivery ${i} rejected`);
    assert.equal(verifyWebhookSignature(request.text, signature, randomSecret()), false);
    // What arrived is byte for byte what was signed.
    assert.equal(hmacOfBytes(request.raw, s.secret), signature);
    assert.deepEqual(request.raw, sentBodies[i]);
    assert.deepEqual(new TextEncoder().encode(request.text), request.raw);
  }
  const sendAts = s.receiver.received.map((r) =>
    (payloadOf(r).webhook as { sendAt: string }).sendAt
  );
  assert.equal(new Set(sendAts).size, 3, "each attempt is stamped with its own send time");
});

Deno.test("the seed's verification code rejects a tampered body", async () => {
  await using s = await setup();
  await runJob(s);
  const { text, headers } = s.receiver.received[0];
  const tampered = text.replace('"status":"success"', '"status":"failure"');
  assert.notEqual(tampered, text);
  assert.equal(verifyWebhookSignature(tampered, headers.get("x-signature")!, s.secret), false);
});

Deno.test("standardwebhooks verifies the webhook-* headers, and throws on a tampered body or a wrong secret", async () => {
  // The library checks webhook-timestamp against the wall clock (±5 min).
  await using s = await setup({ now: wallClockBetweenFires() });
  await runJob(s);
  await sendTest(s);
  assert.equal(s.receiver.received.length, 2);
  for (const { text, headers } of s.receiver.received) {
    const verified = new Webhook(s.secret).verify(text, headerObject(headers));
    assert.deepEqual(verified, JSON.parse(text));
    assert.throws(() =>
      new Webhook(s.secret).verify(text.replace('"code":200', '"code":201'), headerObject(headers))
    );
    assert.throws(() => new Webhook(s.secret).verify(text + " ", headerObject(headers)));
    assert.throws(() => new Webhook(randomSecret()).verify(text, headerObject(headers)));
  }
});

Deno.test("after a rotation both secrets verify with standardwebhooks and X-Signature uses the new one", async () => {
  await using s = await setup({ now: wallClockBetweenFires() });
  const oldSecret = s.secret;
  const rotated = await s.t.call<WebhookView>("POST", `/api/webhooks/${s.job.id}/rotate`);
  expectStatus(rotated, 200);
  const newSecret = rotated.body.data.secret;
  assert.notEqual(newSecret, oldSecret);

  await sendTest(s);
  await runJob(s);
  assert.equal(s.receiver.received.length, 2);
  for (const { text, headers } of s.receiver.received) {
    const signatures = headers.get("webhook-signature")!.split(" ");
    assert.equal(signatures.length, 2, `expected two signatures: ${signatures.join(" ")}`);
    for (const signature of signatures) assert.match(signature, /^v1,/);
    new Webhook(oldSecret).verify(text, headerObject(headers));
    new Webhook(newSecret).verify(text, headerObject(headers));
    assert.throws(() => new Webhook(randomSecret()).verify(text, headerObject(headers)));

    const xSignature = headers.get("x-signature")!;
    assert.ok(
      verifyWebhookSignature(text, xSignature, newSecret),
      "X-Signature is not the new one",
    );
    assert.equal(verifyWebhookSignature(text, xSignature, oldSecret), false);
  }
});

Deno.test("once the rotation grace period is over only the new secret signs", async () => {
  await using s = await setup({ env: { HIBIKI_WEBHOOK_ROTATION_GRACE_HOURS: "1" } });
  const rotated = await s.t.call<WebhookView>("POST", `/api/webhooks/${s.job.id}/rotate`);
  const newSecret = rotated.body.data.secret;
  s.t.clock.advance(3_600_000 - 1);
  await sendTest(s);
  s.t.clock.advance(1);
  await sendTest(s);
  const [during, after] = s.receiver.received;
  assert.equal(during.headers.get("webhook-signature")!.split(" ").length, 2);
  assert.equal(after.headers.get("webhook-signature")!.split(" ").length, 1);
  assert.ok(verifyWebhookSignature(after.text, after.headers.get("x-signature")!, newSecret));
});

// ---------------------------------------------------------------------------------------------
// Retries

storeTest(
  "a failing delivery is retried after 5 s, 30 s, 2 min … and is dead once the schedule is spent",
  async (store) => {
    await using s = await setup({ store, reply: status(500) });
    await runJob(s);
    const [first] = await deliveries(s);
    const id = first.id;

    for (const [i, step] of SCHEDULE.entries()) {
      const current = await delivery(s, id);
      assert.equal(current.state, "pending", `after attempt ${i + 1}`);
      assert.equal(current.attempts.length, i + 1);
      const last = current.attempts[i];
      assert.equal(last.status, 500);
      assert.equal(last.success, false);
      assert.equal(last.n, i + 1);
      assert.equal(current.nextAttemptAt, iso(Date.parse(last.at) + step), `step ${i + 1}`);

      // Not a moment early.
      s.t.clock.set(due(current) - 1);
      await s.t.settle();
      assert.equal(s.receiver.received.length, i + 1, `attempt ${i + 2} was sent early`);

      s.t.clock.set(due(current));
      await s.t.settle();
      assert.equal(s.receiver.received.length, i + 2);
    }

    const dead = await delivery(s, id);
    assert.equal(dead.state, "dead");
    assert.equal(dead.attempts.length, SCHEDULE.length + 1);
    assert.equal(dead.nextAttemptAt, null);
    for (const request of s.receiver.received) {
      assert.equal(request.headers.get("x-webhook-id"), id, "every attempt has the same id");
      assert.equal(payloadOf(request).id, id);
    }

    // Nothing more happens on its own.
    s.t.clock.advance(DAY);
    await s.t.settle();
    assert.equal(s.receiver.received.length, SCHEDULE.length + 1);
  },
);

storeTest(
  "redelivering a dead delivery sends it again with the same id and starts the schedule over",
  async (store) => {
    await using s = await setup({
      store,
      // The first round (1 + 9 retries) and the redelivery fail; the retry after that succeeds.
      reply: (_, i) => i <= SCHEDULE.length + 1 ? status(500)() : new Response("OK"),
    });
    await runJob(s);
    const [{ id }] = await deliveries(s);
    for (let i = 0; i < SCHEDULE.length; i++) {
      s.t.clock.set(due(await delivery(s, id)));
      await s.t.settle();
    }
    assert.equal((await delivery(s, id)).state, "dead");
    const sentBefore = s.receiver.received.length;

    s.t.clock.advance(60_000);
    const redelivered = await s.t.call<DeliveryView>("POST", `/api/deliveries/${id}/redeliver`);
    expectStatus(redelivered, 202);
    assert.equal(redelivered.body.data.id, id);
    await s.t.settle();
    assert.equal(s.receiver.received.length, sentBefore + 1);
    assert.equal(s.receiver.received.at(-1)!.headers.get("x-webhook-id"), id);
    const again = await delivery(s, id);
    assert.equal(again.state, "pending");
    assert.equal(again.attempts.at(-1)!.n, 1, "the attempt count starts over");
    assert.equal(
      again.nextAttemptAt,
      iso(s.t.clock.now() + SCHEDULE[0]),
      "the schedule starts over",
    );

    // The next retry succeeds and ends the delivery.
    s.t.clock.set(due(again));
    await s.t.settle();
    const done = await delivery(s, id);
    assert.equal(done.state, "succeeded");
    const conflict = await s.t.call("POST", `/api/deliveries/${id}/redeliver`);
    assert.equal(conflict.status, 409);
  },
);

Deno.test("Retry-After: 120 on a 503 pushes the next attempt to at least 120 s later", async () => {
  await using s = await setup({ reply: status(503, { "Retry-After": "120" }) });
  await runJob(s);
  const [first] = await deliveries(s);
  const attemptAt = Date.parse(first.attempts[0].at);
  assert.equal(first.attempts[0].status, 503);
  assert.ok(
    due(first) >= attemptAt + 120_000,
    `next attempt ${due(first) - attemptAt} ms after the first`,
  );
  s.t.clock.set(attemptAt + 119_999);
  await s.t.settle();
  assert.equal(s.receiver.received.length, 1, "retried before Retry-After");
  s.t.clock.set(due(first));
  await s.t.settle();
  assert.equal(s.receiver.received.length, 2);
});

Deno.test("Retry-After as an HTTP date is honoured, and a huge one is capped at 12 hours", async () => {
  const later = new Date(T0 + 10 * 60_000).toUTCString();
  await using s = await setup({
    reply: (_, i) => status(503, { "Retry-After": i === 0 ? later : String(7 * 86_400) })(),
  });
  await runJob(s);
  const [first] = await deliveries(s);
  assert.equal(first.nextAttemptAt, iso(T0 + 10 * 60_000));
  s.t.clock.set(due(first));
  await s.t.settle();
  const second = await delivery(s, first.id);
  assert.equal(second.nextAttemptAt, iso(s.t.clock.now() + 12 * 3_600_000));
});

Deno.test("only the first KiB of a receiver's answer is kept with the attempt", async () => {
  await using s = await setup({
    reply: () => new Response("x".repeat(1_000_000), { status: 500 }),
  });
  const sent = await sendTest(s);
  const [attempt] = (await delivery(s, sent.id)).attempts;
  assert.equal(attempt.status, 500);
  assert.ok(attempt.response.length <= 1024, `kept ${attempt.response.length} bytes`);
  assert.ok(attempt.response.startsWith("xxxx"));
});

const REDIRECTS = [301, 302, 303, 307, 308];

/** Sends one test delivery per redirect status to a receiver pointing elsewhere. */
async function redirected(): Promise<{ s: Setup; elsewhere: Receiver; sent: DeliveryView[] }> {
  const elsewhere = startReceiver();
  const s = await setup({
    reply: (_, i) =>
      new Response(null, { status: REDIRECTS[i], headers: { Location: elsewhere.url } }),
  });
  const sent: DeliveryView[] = [];
  for (const _ of REDIRECTS) {
    sent.push(await delivery(s, (await sendTest(s)).id));
    s.t.clock.advance(1000);
  }
  return { s, elsewhere, sent };
}

Deno.test("a 3xx answer is a failure, retried, and its Location is not followed", async () => {
  const { s, elsewhere, sent } = await redirected();
  await using _s = s;
  await using _elsewhere = elsewhere;
  for (const [i, result] of sent.entries()) {
    assert.equal(result.attempts.length, 1);
    assert.equal(result.attempts[0].success, false, `${REDIRECTS[i]} counted as success`);
    assert.equal(result.state, "pending", `${REDIRECTS[i]} is retried like any failure`);
  }
  assert.equal(s.receiver.received.length, REDIRECTS.length);
  assert.equal(elsewhere.received.length, 0, "a redirect was followed");
});

Deno.test("a 3xx answer is recorded with its status code, not as 0 (no answer)", async () => {
  // Attempt.status is "HTTP status of the receiver's answer, 0 when none came"; a 301 came.
  const { s, elsewhere, sent } = await redirected();
  await using _s = s;
  await using _elsewhere = elsewhere;
  assert.deepEqual(sent.map((d) => d.attempts[0].status), REDIRECTS);
});

storeTest(
  "a 410 answer disables the webhook, says why, and later runs queue no delivery",
  async (store) => {
    await using s = await setup({ store, reply: status(410) });
    await runJob(s);
    const [gone] = await deliveries(s);
    assert.equal(gone.state, "dead");
    assert.equal(gone.attempts[0].status, 410);

    const disabled = await webhook(s);
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabledReason ?? "", /410/);
    assert.equal(disabled.disabledAt, new Date(T0).toISOString());

    s.t.clock.advance(60_000);
    await runJob(s);
    assert.equal(s.target.received.length, 2, "the job itself still runs");
    assert.equal((await deliveries(s)).length, 1, "a delivery was queued for a disabled webhook");
    s.t.clock.advance(DAY);
    await s.t.settle();
    assert.equal(s.receiver.received.length, 1);
  },
);

Deno.test("a webhook whose deliveries fail for three days straight is disabled", async () => {
  await using s = await setup({ reply: status(500) });
  await runJob(s);
  for (const day of [1, 2]) {
    s.t.clock.set(T0 + day * DAY);
    await runJob(s);
    assert.equal((await webhook(s)).enabled, true, `disabled after ${day} day(s)`);
  }
  s.t.clock.set(T0 + 3 * DAY - 1000);
  await runJob(s);
  assert.equal((await webhook(s)).enabled, true, "disabled before three days had passed");

  s.t.clock.set(T0 + 3 * DAY + 1000);
  await runJob(s);
  const disabled = await webhook(s);
  assert.equal(disabled.enabled, false);
  assert.match(disabled.disabledReason ?? "", /3 days/);
  const received = s.receiver.received.length;

  s.t.clock.advance(60_000);
  await runJob(s);
  s.t.clock.advance(DAY);
  await s.t.settle();
  assert.equal(s.receiver.received.length, received, "a disabled webhook was sent to");

  // Re-enabled by its owner, the webhook starts a new streak rather than being cut at once.
  const on = await s.t.call("PATCH", `/api/webhooks/${s.job.id}`, { body: { enabled: true } });
  expectStatus(on, 200);
  await runJob(s);
  assert.equal(s.receiver.received.length, received + 1);
  assert.equal((await webhook(s)).enabled, true, "re-enabled webhook disabled by its old streak");
});

Deno.test("one success within three days of failures keeps the webhook enabled", async () => {
  let answer = 500;
  await using s = await setup({ reply: () => status(answer)() });
  await runJob(s);
  s.t.clock.set(T0 + 2 * DAY);
  answer = 200;
  await sendTest(s);
  answer = 500;
  s.t.clock.set(T0 + 3 * DAY + 1000);
  await runJob(s);
  assert.equal((await webhook(s)).enabled, true);
  s.t.clock.set(T0 + 5 * DAY + 1000);
  await runJob(s);
  assert.equal((await webhook(s)).enabled, true, "the failing streak started at T0 + 3 days");
  s.t.clock.set(T0 + 6 * DAY + 2000);
  await runJob(s);
  assert.equal((await webhook(s)).enabled, false);
});

Deno.test("a receiver that never answers is cut at HIBIKI_WEBHOOK_TIMEOUT_SECONDS", async () => {
  await using s = await setup({
    reply: () => "hang",
    env: { HIBIKI_WEBHOOK_TIMEOUT_SECONDS: "1" },
  });
  const started = performance.now();
  const answer = await s.t.call<DeliveryView>("POST", `/api/webhooks/${s.job.id}/test`);
  await s.t.settle();
  const elapsed = performance.now() - started;
  assert.equal(s.receiver.received.length, 1, "the receiver got the request");
  assert.ok(elapsed < 1500, `the attempt took ${Math.round(elapsed)} ms`);
  assert.ok(elapsed >= 950, `the attempt was cut after only ${Math.round(elapsed)} ms`);
  const result = await delivery(s, answer.body.data.id);
  assert.equal(result.attempts.length, 1);
  const [attempt] = result.attempts;
  assert.equal(attempt.success, false);
  assert.equal(attempt.status, 0);
  assert.match(attempt.error ?? "", /time/i);
  assert.equal(result.state, "pending", "a timeout is retried");
});

Deno.test("a retry due for a webhook disabled meanwhile is closed without sending", async () => {
  await using s = await setup({ reply: status(500) });
  await runJob(s);
  const [first] = await deliveries(s);
  const off = await s.t.call("PATCH", `/api/webhooks/${s.job.id}`, { body: { enabled: false } });
  expectStatus(off, 200);
  s.t.clock.set(due(first));
  await s.t.settle();
  assert.equal(s.receiver.received.length, 1);
  const closed = await delivery(s, first.id);
  assert.equal(closed.state, "dead");
  assert.match(closed.attempts.at(-1)!.error ?? "", /disabled/i);
});

// ---------------------------------------------------------------------------------------------
// Idempotency

Deno.test("a delivery that succeeded is never sent again, however often the queue is drained", async () => {
  await using s = await setup();
  await runJob(s);
  const test = await s.t.call<DeliveryView>("POST", `/api/webhooks/${s.job.id}/test`);
  await Promise.all([
    s.t.system.lanes.deliveries.drain(),
    s.t.system.lanes.deliveries.drain(),
    s.t.system.lanes.deliveries.drain(),
  ]);
  await s.t.settle();
  for (let i = 0; i < 3; i++) await s.t.system.lanes.deliveries.drain();
  await s.t.settle();
  assert.equal(s.receiver.received.length, 2);

  // Queue both again by hand, as a stale due entry and as an expired lease would.
  const done = await deliveries(s);
  assert.deepEqual(done.map((d) => d.state), ["succeeded", "succeeded"]);
  assert.ok(done.some((d) => d.id === test.body.data.id));
  const now = s.t.clock.now();
  for (const d of done) {
    const ref = { userId: d.userId, jobId: d.jobId, createdAt: Date.parse(d.createdAt) };
    await s.t.kv.set(["delivery_due", now, d.id], ref);
    await s.t.kv.set(["delivery_lease", now - 1, Date.parse(d.createdAt), d.id], ref);
  }
  s.t.clock.advance(1);
  await s.t.settle();
  await s.t.system.lanes.deliveries.drain();
  await s.t.settle();

  const perId = new Map<string, number>();
  for (const request of s.receiver.received) {
    const id = request.headers.get("x-webhook-id")!;
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  assert.deepEqual([...perId.values()], [1, 1], "a delivery was sent twice");
  for (const prefix of [["delivery_due"], ["delivery_lease"]]) {
    const left = await Array.fromAsync(s.t.kv.list({ prefix }));
    assert.deepEqual(left.map((e) => e.key), [], `${prefix[0]} entries were left behind`);
  }
  for (const d of done) {
    const answer = await s.t.call("POST", `/api/deliveries/${d.id}/redeliver`);
    assert.equal(answer.status, 409);
  }
  await s.t.settle();
  assert.equal(s.receiver.received.length, 2);
});

Deno.test("every run of a job gets its own delivery id", async () => {
  await using s = await setup();
  for (let i = 0; i < 3; i++) {
    await runJob(s);
    s.t.clock.advance(1000);
  }
  const ids = s.receiver.received.map((r) => r.headers.get("x-webhook-id"));
  assert.equal(new Set(ids).size, 3);
  const counts = s.receiver.received.map((r) => (payloadOf(r).job as { count: number }).count);
  assert.deepEqual(counts, [1, 2, 3]);
});

Deno.test("only a webhook's first failure marks its failing streak, so its job's runs need not read it again", async () => {
  await using s = await setup({ reply: status(500) });
  const changesOf = async () =>
    (await Array.fromAsync(s.t.kv.list({ prefix: kvKeys.jobChanges() })))
      .filter(({ key }) => key[3] === s.job.id).length;
  const before = await changesOf();
  await runJob(s);
  assert.equal(await changesOf(), before + 1, "the first failure started the streak");
  s.t.clock.advance(DAY);
  await runJob(s);
  assert.equal(await changesOf(), before + 1, "a later failure wrote the mark again");
});
