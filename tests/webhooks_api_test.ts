/**
 * `/api/webhooks` and `/api/deliveries` end to end, in-process, against seed 003's wording:
 * shapes, secrets shown once then masked, endpoint and header rules, scopes and tenants.
 * Deliveries here go through the fake probe; tests/webhook_delivery_test.ts sends them for real.
 */
import assert from "node:assert/strict";
import type { ProbeResult } from "../lib/net/probe.ts";
import type { DeliveryView, WebhookView } from "../lib/webhooks/types.ts";
import { expectError, expectStatus, okProbe, T0, TestSystem } from "./helpers.ts";

const ENDPOINT = "https://your-server.com/webhook";
const HEADERS = { "Authorization": "Bearer your-token", "X-Custom-Header": "value" };
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** A job and its webhook (seed 003's request body), created as `key` (root by default). */
async function jobWithWebhook(
  t: TestSystem,
  fields: Record<string, unknown> = {},
  key?: string,
): Promise<{ jobId: string; webhook: WebhookView }> {
  const job = await t.createJob({}, key);
  const answer = await t.call<WebhookView>("POST", "/api/webhooks", {
    key,
    body: { jobId: job.id, endpoint: ENDPOINT, headers: HEADERS, ...fields },
  });
  expectStatus(answer, 201);
  return { jobId: job.id, webhook: answer.body.data };
}

function masked(secret: string): string {
  return secret.slice(0, 10) + "…";
}

function failingProbe(code: number): () => ProbeResult {
  return () => ({ ...okProbe(), success: false, code, body: "nope" });
}

// ---------------------------------------------------------------------------------------------
// Creating and reading

Deno.test("POST /api/webhooks answers 201 with the seed's fields and the full secret", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const answer = await t.call<WebhookView>("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: ENDPOINT, headers: HEADERS },
  });
  expectStatus(answer, 201);
  assert.equal(answer.body.success, true);
  const webhook = answer.body.data;
  const stamp = new Date(T0).toISOString();
  assert.match(webhook.id, /^webhook_[0-9a-f]{32}$/);
  assert.match(webhook.secret, SECRET);
  assert.deepEqual(webhook, {
    id: webhook.id,
    userId: "default",
    jobId: job.id,
    endpoint: ENDPOINT,
    secret: webhook.secret,
    headers: HEADERS,
    createdAt: stamp,
    updatedAt: stamp,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
  });
});

Deno.test("POST /api/webhooks makes a whsec_ secret of at least 24 random bytes, new every time", async () => {
  await using t = await TestSystem.start();
  const secrets = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const { webhook } = await jobWithWebhook(t);
    const base64 = SECRET.exec(webhook.secret)![1];
    const bytes = Uint8Array.fromBase64(base64);
    assert.ok(bytes.length >= 24, `${webhook.secret} holds ${bytes.length} bytes`);
    secrets.add(webhook.secret);
  }
  assert.equal(secrets.size, 5);
});

Deno.test("POST /api/webhooks accepts a webhook without headers and keeps them null", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const answer = await t.call<WebhookView>("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: ENDPOINT },
  });
  expectStatus(answer, 201);
  assert.equal(answer.body.data.headers, null);
});

Deno.test("GET /api/webhooks lists the user's webhooks with the secret masked as whsec_abc1…", async () => {
  await using t = await TestSystem.start();
  const a = await jobWithWebhook(t);
  const b = await jobWithWebhook(t);
  const answer = await t.call<WebhookView[]>("GET", "/api/webhooks");
  expectStatus(answer, 200);
  assert.equal(answer.body.success, true);
  const byJob = new Map(answer.body.data.map((w) => [w.jobId, w]));
  assert.equal(byJob.size, 2);
  for (const { jobId, webhook } of [a, b]) {
    const listed = byJob.get(jobId)!;
    assert.deepEqual(listed, { ...webhook, secret: masked(webhook.secret) });
    assert.match(listed.secret, /^whsec_.{4}…$/);
  }
});

Deno.test("GET /api/webhooks pages through every webhook once with a cursor", async () => {
  await using t = await TestSystem.start();
  const made = new Set<string>();
  for (let i = 0; i < 5; i++) made.add((await jobWithWebhook(t)).webhook.id);
  const seen: string[] = [];
  let cursor: string | null | undefined = undefined;
  for (let page = 0; page < 5; page++) {
    const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
    const answer = await t.call<WebhookView[]>("GET", `/api/webhooks${query}`);
    expectStatus(answer, 200);
    seen.push(...answer.body.data.map((w) => w.id));
    cursor = answer.body.cursor;
    if (!cursor) break;
  }
  assert.deepEqual(new Set(seen), made);
  assert.equal(seen.length, 5);
});

Deno.test("GET /api/webhooks/:jobId shows the job's webhook with the secret masked", async () => {
  await using t = await TestSystem.start();
  const { jobId, webhook } = await jobWithWebhook(t);
  const answer = await t.call<WebhookView>("GET", `/api/webhooks/${jobId}`);
  expectStatus(answer, 200);
  assert.deepEqual(answer.body.data, { ...webhook, secret: masked(webhook.secret) });
});

Deno.test("GET /api/webhooks/:jobId answers 404 for a job without a webhook and for no job", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  expectError(await t.call("GET", `/api/webhooks/${job.id}`), 404, "NOT_FOUND");
  expectError(await t.call("GET", "/api/webhooks/no-such-job"), 404, "NOT_FOUND");
});

Deno.test("the webhook secret is stored encrypted, never as its text", async () => {
  await using t = await TestSystem.start();
  const { jobId, webhook } = await jobWithWebhook(t);
  const raw = await t.kv.get(["webhook", "default", jobId]);
  assert.ok(raw.value, "the webhook is stored under [webhook, userId, jobId]");
  const stored = JSON.stringify(raw.value);
  const base64 = SECRET.exec(webhook.secret)![1];
  assert.ok(!stored.includes(webhook.secret), "the secret appears in the stored value");
  assert.ok(!stored.includes(base64), "the secret's base64 appears in the stored value");
  assert.ok(!stored.includes(base64.slice(0, 16)), "part of the secret appears in storage");

  // After a rotation neither the new nor the old secret is stored in the clear either.
  const rotated = await t.call<WebhookView>("POST", `/api/webhooks/${jobId}/rotate`);
  expectStatus(rotated, 200);
  const after = JSON.stringify((await t.kv.get(["webhook", "default", jobId])).value);
  for (const secret of [webhook.secret, rotated.body.data.secret]) {
    assert.ok(!after.includes(secret.slice(6, 22)), "a secret appears in storage after rotation");
  }
});

Deno.test("POST /api/webhooks answers 409 for a second webhook on the same job", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const answer = await t.call("POST", "/api/webhooks", {
    body: { jobId, endpoint: "https://other.example.com/hook" },
  });
  expectError(answer, 409, "CONFLICT");
  const kept = await t.call<WebhookView>("GET", `/api/webhooks/${jobId}`);
  assert.equal(kept.body.data.endpoint, ENDPOINT);
});

Deno.test("POST /api/webhooks answers 404 for a job that does not exist", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call("POST", "/api/webhooks", {
    body: { jobId: "no-such-job", endpoint: ENDPOINT },
  });
  expectError(answer, 404, "NOT_FOUND");
});

Deno.test("a webhook cannot be made, seen or touched through another user's job", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const other = await t.createJob();
  const acme = await t.createKey(["read:jobs", "write:jobs", "read:logs", "write:logs"], "acme");
  const as = { key: acme.key };

  const create = await t.call("POST", "/api/webhooks", {
    ...as,
    body: { jobId: other.id, endpoint: ENDPOINT },
  });
  expectError(create, 404, "NOT_FOUND");
  expectError(await t.call("GET", `/api/webhooks/${jobId}`, as), 404, "NOT_FOUND");
  const patch = await t.call("PATCH", `/api/webhooks/${jobId}`, {
    ...as,
    body: { endpoint: "https://evil.example.com/" },
  });
  expectError(patch, 404, "NOT_FOUND");
  expectError(await t.call("DELETE", `/api/webhooks/${jobId}`, as), 404, "NOT_FOUND");
  expectError(await t.call("POST", `/api/webhooks/${jobId}/rotate`, as), 404, "NOT_FOUND");
  expectError(await t.call("POST", `/api/webhooks/${jobId}/test`, as), 404, "NOT_FOUND");
  expectError(await t.call("GET", `/api/webhooks/${jobId}/deliveries`, as), 404, "NOT_FOUND");

  const list = await t.call<WebhookView[]>("GET", "/api/webhooks", as);
  expectStatus(list, 200);
  assert.deepEqual(list.body.data, []);

  const mine = await t.call<WebhookView>("GET", `/api/webhooks/${jobId}`);
  assert.equal(mine.body.data.endpoint, ENDPOINT, "the owner's webhook is unchanged");
});

// ---------------------------------------------------------------------------------------------
// Scopes

Deno.test("reading webhooks needs read:logs and changing them needs write:logs", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const other = await t.createJob();
  const reader = await t.createKey(["read:logs"]);
  const writer = await t.createKey(["write:logs"]);
  const jobsOnly = await t.createKey(["read:jobs", "write:jobs"]);

  for (
    const path of ["/api/webhooks", `/api/webhooks/${jobId}`, `/api/webhooks/${jobId}/deliveries`]
  ) {
    expectStatus(await t.call("GET", path, { key: reader.key }), 200);
    expectError(await t.call("GET", path, { key: jobsOnly.key }), 403, "FORBIDDEN");
    expectError(await t.call("GET", path, { key: null }), 401, "UNAUTHORIZED");
  }
  const writes: [string, string, unknown][] = [
    ["POST", "/api/webhooks", { jobId: other.id, endpoint: ENDPOINT }],
    ["PATCH", `/api/webhooks/${jobId}`, { headers: null }],
    ["POST", `/api/webhooks/${jobId}/rotate`, undefined],
    ["POST", `/api/webhooks/${jobId}/test`, undefined],
  ];
  for (const [method, path, body] of writes) {
    expectError(await t.call(method, path, { key: reader.key, body }), 403, "FORBIDDEN");
    expectError(await t.call(method, path, { key: jobsOnly.key, body }), 403, "FORBIDDEN");
    const answer = await t.call(method, path, { key: writer.key, body });
    assert.ok(answer.status < 300, `${method} ${path} with write:logs: ${answer.status}`);
  }
  expectError(
    await t.call("DELETE", `/api/webhooks/${jobId}`, { key: reader.key }),
    403,
    "FORBIDDEN",
  );
  expectStatus(await t.call("DELETE", `/api/webhooks/${jobId}`, { key: writer.key }), 200);
});

// ---------------------------------------------------------------------------------------------
// Input rules

const BAD_CREATE: { what: string; body: Record<string, unknown>; field: string }[] = [
  { what: "a numeric jobId", body: { jobId: 42, endpoint: ENDPOINT }, field: "jobId" },
  { what: "an empty jobId", body: { jobId: "", endpoint: ENDPOINT }, field: "jobId" },
  { what: "a numeric endpoint", body: { endpoint: 42 }, field: "endpoint" },
  { what: "an endpoint that is not a URL", body: { endpoint: "not a url" }, field: "endpoint" },
  { what: "an ftp endpoint", body: { endpoint: "ftp://example.com/hook" }, field: "endpoint" },
  { what: "an http endpoint", body: { endpoint: "http://example.com/hook" }, field: "endpoint" },
  { what: "a loopback endpoint", body: { endpoint: "https://127.0.0.1/hook" }, field: "endpoint" },
  {
    what: "an IPv6 loopback endpoint",
    body: { endpoint: "https://[::1]/hook" },
    field: "endpoint",
  },
  { what: "a private endpoint", body: { endpoint: "https://10.1.2.3/hook" }, field: "endpoint" },
  {
    what: "the cloud metadata address",
    body: { endpoint: "https://169.254.169.254/latest/meta-data" },
    field: "endpoint",
  },
  { what: "a localhost endpoint", body: { endpoint: "https://localhost/hook" }, field: "endpoint" },
  {
    what: "credentials in the endpoint",
    body: { endpoint: "https://user:pw@example.com/hook" },
    field: "endpoint",
  },
  {
    what: "an endpoint of 2049 characters",
    body: { endpoint: "https://example.com/" + "a".repeat(2049 - 20) },
    field: "endpoint",
  },
  {
    what: "an endpoint with a line break",
    body: { endpoint: "https://example.com/hook\r\nX-Injected: 1" },
    field: "endpoint",
  },
  {
    what: "an endpoint with a control character",
    body: { endpoint: "https://example.com/hook\u0007" },
    field: "endpoint",
  },
  {
    what: "a header with a control character",
    body: { headers: { "X-A": "a\u001bb" } },
    field: "headers",
  },
  { what: "headers as a string", body: { headers: "X-A: 1" }, field: "headers" },
  { what: "headers as an array", body: { headers: ["X-A"] }, field: "headers" },
  { what: "a numeric header value", body: { headers: { "X-A": 1 } }, field: "headers" },
  {
    what: "a header with a line break",
    body: { headers: { "X-A": "a\r\nB: c" } },
    field: "headers",
  },
  { what: "an invalid header name", body: { headers: { "X A": "1" } }, field: "headers" },
  { what: "the header X-Signature", body: { headers: { "X-Signature": "x" } }, field: "headers" },
  { what: "the header x-signature", body: { headers: { "x-signature": "x" } }, field: "headers" },
  { what: "the header X-Webhook-ID", body: { headers: { "X-Webhook-ID": "x" } }, field: "headers" },
  { what: "the header webhook-id", body: { headers: { "webhook-id": "x" } }, field: "headers" },
  {
    what: "the header Webhook-Timestamp",
    body: { headers: { "Webhook-Timestamp": "1" } },
    field: "headers",
  },
  {
    what: "the header webhook-signature",
    body: { headers: { "webhook-signature": "v1,x" } },
    field: "headers",
  },
  {
    what: "the header Content-Type",
    body: { headers: { "Content-Type": "text/plain" } },
    field: "headers",
  },
  { what: "the header Host", body: { headers: { Host: "internal" } }, field: "headers" },
  { what: "an unknown field", body: { secret: "whsec_mine" }, field: "secret" },
];

for (const { what, body, field } of BAD_CREATE) {
  Deno.test(`POST /api/webhooks answers 400 naming "${field}" for ${what}`, async () => {
    await using t = await TestSystem.start();
    const job = await t.createJob();
    const answer = await t.call("POST", "/api/webhooks", {
      body: { jobId: job.id, endpoint: ENDPOINT, headers: null, ...body },
    });
    expectError(answer, 400, "INVALID_REQUEST", field);
    const none = await t.call<WebhookView[]>("GET", "/api/webhooks");
    assert.deepEqual(none.body.data, [], "nothing was created");
  });
}

// The table above fills in defaults; a missing field has to be really missing.
Deno.test("POST /api/webhooks answers 400 naming the field that is missing", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const noJob = await t.call("POST", "/api/webhooks", { body: { endpoint: ENDPOINT } });
  expectError(noJob, 400, "INVALID_REQUEST", "jobId");
  const noEndpoint = await t.call("POST", "/api/webhooks", { body: { jobId: job.id } });
  expectError(noEndpoint, 400, "INVALID_REQUEST", "endpoint");
});

Deno.test("POST /api/webhooks refuses custom headers in the reserved webhook-* namespace", async () => {
  // Seed 003's reserved set as the issue words it: X-Signature, X-Webhook-ID, webhook-*,
  // Content-Type, Host. A header like `webhook-version` would collide with Standard Webhooks.
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const answer = await t.call("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: ENDPOINT, headers: { "Webhook-Version": "2" } },
  });
  expectError(answer, 400, "INVALID_REQUEST", "headers");
});

Deno.test("POST /api/webhooks answers 400 for a body that is not a JSON object", async () => {
  await using t = await TestSystem.start();
  for (const body of ["[1,2]", '"text"', "{nope"]) {
    const answer = await t.call("POST", "/api/webhooks", { body });
    expectError(answer, 400, "INVALID_REQUEST");
  }
});

Deno.test("POST /api/webhooks accepts an endpoint of exactly 2048 characters", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const endpoint = "https://example.com/" + "a".repeat(2048 - 20);
  assert.equal(endpoint.length, 2048);
  const answer = await t.call<WebhookView>("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint },
  });
  expectStatus(answer, 201);
  assert.equal(answer.body.data.endpoint, endpoint);
});

Deno.test("HIBIKI_ALLOW_HTTP_WEBHOOKS=1 allows http endpoints but still refuses private addresses", async () => {
  await using t = await TestSystem.start({ env: { HIBIKI_ALLOW_HTTP_WEBHOOKS: "1" } });
  const job = await t.createJob();
  const loopback = await t.call("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: "http://127.0.0.1:8080/hook" },
  });
  expectError(loopback, 400, "INVALID_REQUEST", "endpoint");
  const publicHttp = await t.call<WebhookView>("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: "http://example.com/hook" },
  });
  expectStatus(publicHttp, 201);
});

Deno.test("HIBIKI_ALLOW_PRIVATE_NETWORKS=1 allows http endpoints on 127.0.0.1", async () => {
  await using t = await TestSystem.start({ env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" } });
  const job = await t.createJob();
  const answer = await t.call<WebhookView>("POST", "/api/webhooks", {
    body: { jobId: job.id, endpoint: "http://127.0.0.1:8080/hook" },
  });
  expectStatus(answer, 201);
  const ftp = await t.call("POST", "/api/webhooks", {
    body: { jobId: (await t.createJob()).id, endpoint: "ftp://127.0.0.1/hook" },
  });
  expectError(ftp, 400, "INVALID_REQUEST", "endpoint");
});

// ---------------------------------------------------------------------------------------------
// Changing and deleting

Deno.test("PATCH /api/webhooks/:jobId changes the endpoint and headers and keeps the secret", async () => {
  await using t = await TestSystem.start();
  const { jobId, webhook } = await jobWithWebhook(t);
  t.clock.advance(60_000);
  const answer = await t.call<WebhookView>("PATCH", `/api/webhooks/${jobId}`, {
    body: {
      endpoint: "https://new-server.com/webhook",
      headers: { "Authorization": "Bearer new-token" },
    },
  });
  expectStatus(answer, 200);
  assert.deepEqual(answer.body.data, {
    ...webhook,
    endpoint: "https://new-server.com/webhook",
    headers: { "Authorization": "Bearer new-token" },
    secret: masked(webhook.secret),
    updatedAt: new Date(T0 + 60_000).toISOString(),
  });
  const read = await t.call<WebhookView>("GET", `/api/webhooks/${jobId}`);
  assert.deepEqual(read.body.data, answer.body.data);
});

Deno.test("PATCH /api/webhooks/:jobId changes only the fields it is given", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const answer = await t.call<WebhookView>("PATCH", `/api/webhooks/${jobId}`, {
    body: { headers: null },
  });
  expectStatus(answer, 200);
  assert.equal(answer.body.data.headers, null);
  assert.equal(answer.body.data.endpoint, ENDPOINT);
});

Deno.test("PATCH /api/webhooks/:jobId can disable and re-enable the webhook", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const off = await t.call<WebhookView>("PATCH", `/api/webhooks/${jobId}`, {
    body: { enabled: false },
  });
  expectStatus(off, 200);
  assert.equal(off.body.data.enabled, false);
  assert.equal(typeof off.body.data.disabledReason, "string");
  const on = await t.call<WebhookView>("PATCH", `/api/webhooks/${jobId}`, {
    body: { enabled: true },
  });
  assert.equal(on.body.data.enabled, true);
  assert.equal(on.body.data.disabledReason, null);
  assert.equal(on.body.data.disabledAt, null);
});

const BAD_PATCH: { what: string; body: unknown; field: string }[] = [
  { what: "an http endpoint", body: { endpoint: "http://example.com/hook" }, field: "endpoint" },
  { what: "a private endpoint", body: { endpoint: "https://192.168.1.1/hook" }, field: "endpoint" },
  {
    what: "an endpoint of 2049 characters",
    body: { endpoint: "https://example.com/" + "a".repeat(2029) },
    field: "endpoint",
  },
  { what: "the header X-Signature", body: { headers: { "X-Signature": "x" } }, field: "headers" },
  { what: "the header Host", body: { headers: { "host": "x" } }, field: "headers" },
  { what: "enabled as a string", body: { enabled: "yes" }, field: "enabled" },
  { what: "a jobId (it cannot move)", body: { jobId: "other" }, field: "jobId" },
  { what: "a secret (only rotation makes one)", body: { secret: "whsec_x" }, field: "secret" },
];

for (const { what, body, field } of BAD_PATCH) {
  Deno.test(`PATCH /api/webhooks/:jobId answers 400 naming "${field}" for ${what}`, async () => {
    await using t = await TestSystem.start();
    const { jobId, webhook } = await jobWithWebhook(t);
    const answer = await t.call("PATCH", `/api/webhooks/${jobId}`, { body });
    expectError(answer, 400, "INVALID_REQUEST", field);
    const read = await t.call<WebhookView>("GET", `/api/webhooks/${jobId}`);
    assert.deepEqual(read.body.data, { ...webhook, secret: masked(webhook.secret) });
  });
}

Deno.test("PATCH /api/webhooks/:jobId answers 404 when the job has no webhook", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const answer = await t.call("PATCH", `/api/webhooks/${job.id}`, { body: { headers: null } });
  expectError(answer, 404, "NOT_FOUND");
});

Deno.test("DELETE /api/webhooks/:jobId answers with the seed's message and removes the webhook", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const answer = await t.call("DELETE", `/api/webhooks/${jobId}`);
  expectStatus(answer, 200);
  assert.deepEqual(answer.body, { success: true, data: { message: "Webhookが削除されました" } });
  expectError(await t.call("GET", `/api/webhooks/${jobId}`), 404, "NOT_FOUND");
  expectError(await t.call("DELETE", `/api/webhooks/${jobId}`), 404, "NOT_FOUND");
  assert.equal((await t.kv.get(["webhook", "default", jobId])).value, null);

  // The job may have a new webhook afterwards.
  const again = await t.call("POST", "/api/webhooks", { body: { jobId, endpoint: ENDPOINT } });
  expectStatus(again, 201);
});

Deno.test("deleting a job deletes its webhook", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  expectStatus(await t.call("DELETE", `/api/jobs/${jobId}`), 200);
  expectError(await t.call("GET", `/api/webhooks/${jobId}`), 404, "NOT_FOUND");
  const list = await t.call<WebhookView[]>("GET", "/api/webhooks");
  assert.deepEqual(list.body.data, []);
});

// ---------------------------------------------------------------------------------------------
// Rotation

Deno.test("POST /api/webhooks/:jobId/rotate answers with a new full secret, masked afterwards", async () => {
  await using t = await TestSystem.start();
  const { jobId, webhook } = await jobWithWebhook(t);
  t.clock.advance(1000);
  const answer = await t.call<WebhookView>("POST", `/api/webhooks/${jobId}/rotate`);
  expectStatus(answer, 200);
  const rotated = answer.body.data;
  assert.match(rotated.secret, SECRET);
  assert.notEqual(rotated.secret, webhook.secret);
  assert.equal(rotated.id, webhook.id);
  assert.equal(rotated.updatedAt, new Date(T0 + 1000).toISOString());
  const read = await t.call<WebhookView>("GET", `/api/webhooks/${jobId}`);
  assert.equal(read.body.data.secret, masked(rotated.secret));
});

Deno.test("POST /api/webhooks/:jobId/rotate answers 404 when the job has no webhook", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  expectError(await t.call("POST", `/api/webhooks/${job.id}/rotate`), 404, "NOT_FOUND");
});

// ---------------------------------------------------------------------------------------------
// Deliveries, test sends and redelivery (through the fake probe)

Deno.test("POST /api/webhooks/:jobId/test answers 202 with a pending test delivery", async () => {
  await using t = await TestSystem.start();
  const { jobId, webhook } = await jobWithWebhook(t);
  const answer = await t.call<DeliveryView>("POST", `/api/webhooks/${jobId}/test`);
  expectStatus(answer, 202);
  const delivery = answer.body.data;
  assert.match(delivery.id, /^wh_/);
  assert.equal(delivery.test, true);
  assert.equal(delivery.jobId, jobId);
  assert.equal(delivery.webhookId, webhook.id);
  await t.settle();
  const sent = t.probed.filter((r) => r.url === ENDPOINT);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].headers["X-Webhook-Test"], "true");
  const body = JSON.parse(new TextDecoder().decode(sent[0].body as Uint8Array));
  assert.equal(body.test, true);
  assert.equal(body.id, delivery.id);
});

Deno.test("POST /api/webhooks/:jobId/test answers 404 when the job has no webhook", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  expectError(await t.call("POST", `/api/webhooks/${job.id}/test`), 404, "NOT_FOUND");
});

Deno.test("GET /api/webhooks/:jobId/deliveries lists deliveries newest first, paged by cursor", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const sent = await t.call<DeliveryView>("POST", `/api/webhooks/${jobId}/test`);
    ids.push(sent.body.data.id);
    t.clock.advance(1000);
  }
  await t.settle();
  const seen: string[] = [];
  let cursor: string | null | undefined = undefined;
  for (let page = 0; page < 5; page++) {
    const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
    const answer = await t.call<DeliveryView[]>("GET", `/api/webhooks/${jobId}/deliveries${query}`);
    expectStatus(answer, 200);
    assert.ok(answer.body.data.length <= 2);
    seen.push(...answer.body.data.map((d) => d.id));
    cursor = answer.body.cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, ids.toReversed());
});

Deno.test("GET /api/webhooks/:jobId/deliveries answers 404 for a job that does not exist", async () => {
  await using t = await TestSystem.start();
  expectError(await t.call("GET", "/api/webhooks/no-such-job/deliveries"), 404, "NOT_FOUND");
});

Deno.test("GET /api/deliveries/:id shows a delivery with its attempts", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const sent = await t.call<DeliveryView>("POST", `/api/webhooks/${jobId}/test`);
  await t.settle();
  const answer = await t.call<DeliveryView>("GET", `/api/deliveries/${sent.body.data.id}`);
  expectStatus(answer, 200);
  const delivery = answer.body.data;
  assert.equal(delivery.id, sent.body.data.id);
  assert.equal(delivery.state, "succeeded");
  assert.equal(delivery.attempts.length, 1);
  assert.equal(delivery.attempts[0].status, 200);
  assert.equal(delivery.attempts[0].success, true);
  assert.equal(delivery.nextAttemptAt, null);
});

Deno.test("GET /api/deliveries/:id answers 404 for an unknown id and for another user's delivery", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const sent = await t.call<DeliveryView>("POST", `/api/webhooks/${jobId}/test`);
  await t.settle();
  expectError(await t.call("GET", "/api/deliveries/wh_nope"), 404, "NOT_FOUND");
  const acme = await t.createKey(["read:logs", "write:logs"], "acme");
  const id = sent.body.data.id;
  expectError(await t.call("GET", `/api/deliveries/${id}`, { key: acme.key }), 404, "NOT_FOUND");
  const redeliver = await t.call("POST", `/api/deliveries/${id}/redeliver`, { key: acme.key });
  expectError(redeliver, 404, "NOT_FOUND");
});

Deno.test("POST /api/deliveries/:id/redeliver answers 409 for a delivery that already succeeded", async () => {
  await using t = await TestSystem.start();
  const { jobId } = await jobWithWebhook(t);
  const sent = await t.call<DeliveryView>("POST", `/api/webhooks/${jobId}/test`);
  await t.settle();
  const answer = await t.call("POST", `/api/deliveries/${sent.body.data.id}/redeliver`);
  expectError(answer, 409, "CONFLICT");
  await t.settle();
  assert.equal(t.probed.filter((r) => r.url === ENDPOINT).length, 1);
});

Deno.test("POST /api/deliveries/:id/redeliver answers 202 with the same delivery, due now", async () => {
  await using t = await TestSystem.start({ probe: failingProbe(500), retryJitter: () => 0 });
  const { jobId } = await jobWithWebhook(t);
  const sent = await t.call<DeliveryView>("POST", `/api/webhooks/${jobId}/test`);
  await t.settle();
  const failed = await t.call<DeliveryView>("GET", `/api/deliveries/${sent.body.data.id}`);
  assert.equal(failed.body.data.state, "pending");
  assert.equal(failed.body.data.nextAttemptAt, new Date(T0 + 5000).toISOString());

  t.clock.advance(1000);
  const answer = await t.call<DeliveryView>(
    "POST",
    `/api/deliveries/${sent.body.data.id}/redeliver`,
  );
  expectStatus(answer, 202);
  assert.equal(answer.body.data.id, sent.body.data.id);
  assert.equal(answer.body.data.state, "pending");
  assert.equal(answer.body.data.nextAttemptAt, new Date(T0 + 1000).toISOString());
  await t.settle();
  const after = await t.call<DeliveryView>("GET", `/api/deliveries/${sent.body.data.id}`);
  assert.equal(after.body.data.attempts.length, 2);
  assert.equal(after.body.data.attempts[1].n, 1, "the round starts over");
  assert.equal(after.body.data.nextAttemptAt, new Date(T0 + 6000).toISOString());
  // The retry that was due at T0 + 5 s was replaced, not added: one send per attempt.
  t.clock.set(T0 + 5000);
  await t.settle();
  assert.equal(t.probed.filter((r) => r.url === ENDPOINT).length, 2);
});

/**
 * A run's first delivery attempt uses the webhook as the run read it (no second read) when
 * that read is at most 2 s old; a slow run's delivery reads the webhook again.
 */
async function disableDuringRun(runTakesMs: number) {
  const gate = Promise.withResolvers<void>();
  const t = await TestSystem.start({
    probe: async (request) => {
      if (request.url !== ENDPOINT) await gate.promise;
      return okProbe();
    },
  });
  const { jobId } = await jobWithWebhook(t);
  expectStatus(await t.call("POST", `/api/jobs/${jobId}/run`), 202);
  while (!t.probed.some((r) => r.url === "https://example.com/")) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // The run has read its job and webhook and is waiting for its target.
  expectStatus(
    await t.call("PATCH", `/api/webhooks/${jobId}`, { body: { enabled: false } }),
    200,
  );
  t.clock.advance(runTakesMs);
  gate.resolve();
  await t.settle();
  const list = await t.call<DeliveryView[]>("GET", `/api/webhooks/${jobId}/deliveries`);
  return { t, deliveries: list.body.data };
}

Deno.test("a fast run's delivery goes out with the webhook as the run read it", async () => {
  const { t, deliveries } = await disableDuringRun(1500);
  await using _ = t;
  assert.equal(t.probed.filter((r) => r.url === ENDPOINT).length, 1);
  assert.equal(deliveries[0].state, "succeeded");
});

Deno.test("a slow run's delivery reads the webhook again, and sees it disabled", async () => {
  const { t, deliveries } = await disableDuringRun(2500);
  await using _ = t;
  assert.equal(t.probed.filter((r) => r.url === ENDPOINT).length, 0);
  assert.equal(deliveries[0].state, "dead");
  assert.match(deliveries[0].attempts[0].error ?? "", /^Webhook disabled/);
});

Deno.test("a delivery's record stays within a Deno KV value, however large its job and answers", async () => {
  const huge = (n: number) => "é".repeat(n);
  await using t = await TestSystem.start({
    retryJitter: () => 0,
    probe: (request) =>
      request.url === ENDPOINT
        ? {
          ...okProbe(),
          success: false,
          code: 0,
          body: huge(1024),
          error: { category: "network", message: huge(4000) },
        }
        : { ...okProbe(), body: huge(20_000), headers: { "x-big": huge(9000) } },
  });
  const job = await t.createJob({ method: "POST", body: huge(30_000) });
  expectStatus(
    await t.call("POST", "/api/webhooks", { body: { jobId: job.id, endpoint: ENDPOINT } }),
    201,
  );
  expectStatus(await t.call("POST", `/api/jobs/${job.id}/run`), 202);
  await t.settle();
  const list = await t.call<DeliveryView[]>("GET", `/api/webhooks/${job.id}/deliveries`);
  const id = list.body.data[0].id;
  // Every retry of two rounds, so that more attempts are made than a record keeps.
  for (let round = 0; round < 3; round++) {
    for (let step = 0; step < 15; step++) {
      const current = (await t.call<DeliveryView>("GET", `/api/deliveries/${id}`)).body.data;
      if (current.state !== "pending" || current.nextAttemptAt === null) break;
      t.clock.set(Date.parse(current.nextAttemptAt));
      await t.settle();
    }
    if (round < 2) expectStatus(await t.call("POST", `/api/deliveries/${id}/redeliver`), 202);
  }
  const delivery = (await t.call<DeliveryView>("GET", `/api/deliveries/${id}`)).body.data;
  assert.equal(delivery.state, "dead");
  assert.equal(delivery.attempts.length, 20);
  assert.ok(delivery.attempts.every((a) => (a.error ?? "").length <= 500));
  assert.deepEqual(
    delivery.attempts.map((a) => a.response.length > 0),
    [...Array(10).fill(false), ...Array(10).fill(true)],
  );
  assert.ok(new TextEncoder().encode(delivery.payload.job.body ?? "").length <= 4096);
  assert.ok(new TextEncoder().encode(delivery.payload.result.response.body).length <= 16384);
});
