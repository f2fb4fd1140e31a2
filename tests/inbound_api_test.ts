/** `/api/hooks`: creating, reading, changing and deleting inbound hooks; owners; scopes. */
import assert from "node:assert/strict";
import type { HookView } from "../lib/inbound/types.ts";
import { expectError, expectStatus } from "./helpers.ts";
import { type CreatedHook, InboundHarness } from "./inbound_harness.ts";

const HOOK_ID = /^hook_[0-9a-f]{32}$/;

Deno.test("POST /api/hooks creates a hook and answers its public URL, once with its secret", async () => {
  await using t = await InboundHarness.start();
  const answer = await t.call<CreatedHook>("POST", "/api/hooks", {
    body: {
      name: "github",
      verification: { mode: "header_secret", header: "Secret", secret: "a-provider-secret-123" },
      challenge: true,
      action: { type: "store" },
    },
  });
  expectStatus(answer, 201);
  const hook = answer.body.data;
  assert.match(hook.id, HOOK_ID);
  assert.equal(hook.url, `http://localhost/hooks/${hook.id}`);
  assert.deepEqual(
    { ...hook, id: "", url: "", createdAt: "", updatedAt: "" },
    {
      id: "",
      url: "",
      path: `/hooks/${hook.id}`,
      name: "github",
      enabled: true,
      // A secret the user brought is not echoed: they have it already.
      verification: { mode: "header_secret", header: "Secret", secret: "…" },
      challenge: true,
      action: { type: "store" },
      maxBodyBytes: 1024 * 1024,
      received: 0,
      rejected: 0,
      createdAt: "",
      updatedAt: "",
    },
  );
});

Deno.test("POST /api/hooks makes a secret when none is given and shows it only in that answer", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "github" } });
  const secret = hook.verification.secret!;
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  const read = await t.call<HookView>("GET", `/api/hooks/${hook.id}`);
  expectStatus(read, 200);
  assert.equal(read.body.data.verification.secret, `${secret.slice(0, 4)}…`);
  const listed = await t.call<HookView[]>("GET", "/api/hooks");
  assert.equal(listed.body.data[0].verification.secret, `${secret.slice(0, 4)}…`);
  assert.ok(!JSON.stringify(listed.body).includes(secret));
});

Deno.test("POST /api/hooks with a relay action returns Hibiki's signing secret once", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: "https://example.com/in" },
  });
  assert.match(hook.action.secret!, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual({ ...hook.action, secret: "" }, {
    type: "relay",
    url: "https://example.com/in",
    headers: null,
    timeoutMs: 10_000,
    secret: "",
  });
  const read = await t.call<HookView>("GET", `/api/hooks/${hook.id}`);
  assert.equal(read.body.data.action.secret, hook.action.secret!.slice(0, 10) + "…");
});

Deno.test("POST /api/hooks refuses relay targets the SSRF guard refuses, before any request", async () => {
  await using t = await InboundHarness.start();
  for (
    const url of [
      "https://127.0.0.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://localhost/x",
      "https://10.0.0.8/x",
      "http://example.com/x",
      "ftp://example.com/x",
      "https://user:pw@example.com/x",
      "https://example.com/x\r\nX-Injected: 1",
      "https://example.com/\tx",
    ]
  ) {
    const answer = await t.call("POST", "/api/hooks", {
      body: { name: "r", verification: { mode: "none" }, action: { type: "relay", url } },
    });
    expectError(answer, 400, "INVALID_REQUEST", "action");
  }
  assert.equal(t.relayed.length, 0);
});

Deno.test("POST /api/hooks allows private relay targets when private networks are allowed", async () => {
  await using t = await InboundHarness.start({ allowPrivateNetworks: true });
  const hook = await t.createHook({
    verification: { mode: "none" },
    action: { type: "relay", url: "http://127.0.0.1:9/x" },
  });
  assert.equal(hook.action.type, "relay");
});

Deno.test("POST /api/hooks validates modes, secrets, limits and run targets, naming the field", async () => {
  await using t = await InboundHarness.start();
  const cases: [unknown, string | null][] = [
    [{ name: "x" }, "verification"],
    [{ name: "x", verification: { mode: "magic" } }, "verification"],
    [{ name: "x", verification: { mode: "stripe" } }, "verification"],
    [{ name: "x", verification: { mode: "github", secret: "" } }, "verification"],
    [{ name: "x", verification: { mode: "stripe", secret: "short" } }, "verification"],
    // A header cannot carry spaces at either end: such a secret could never match.
    [
      { name: "x", verification: { mode: "header_secret", secret: " padded secret " } },
      "verification",
    ],
    [
      { name: "x", verification: { mode: "standard_webhooks", secret: "not base64!!" } },
      "verification",
    ],
    [
      { name: "x", verification: { mode: "none" }, maxBodyBytes: 10 * 1024 * 1024 + 1 },
      "maxBodyBytes",
    ],
    [{ name: "x", verification: { mode: "none" }, action: { type: "email" } }, "action"],
    [{ name: "x", verification: { mode: "none" }, extra: 1 }, "extra"],
    [
      {
        name: "x",
        verification: { mode: "none" },
        action: { type: "relay", url: "https://example.com/", headers: { "webhook-id": "x" } },
      },
      "action",
    ],
    [
      {
        name: "x",
        verification: { mode: "none" },
        action: { type: "relay", url: "https://example.com/", headers: { "X-A": "a\u0001" } },
      },
      "action",
    ],
  ];
  for (const [body, field] of cases) {
    expectError(await t.call("POST", "/api/hooks", { body }), 400, "INVALID_REQUEST", field);
  }
  expectError(
    await t.call("POST", "/api/hooks", {
      body: { name: "x", verification: { mode: "none" }, action: { type: "run", jobId: "nope" } },
    }),
    404,
    "NOT_FOUND",
  );
});

Deno.test("POST /api/hooks takes any secret the provider takes: GitHub's own example, the README's", async () => {
  await using t = await InboundHarness.start();
  for (
    const verification of [
      // GitHub takes any string; this one is from GitHub's documentation.
      { mode: "github", secret: "It's a Secret to Everybody" },
      { mode: "github", secret: "秘密" },
      { mode: "hmac_sha256", secret: "a secret with spaces" },
      // The README's inbound example: seed 001 sets no rule for its Secret header.
      { mode: "header_secret", header: "Secret", secret: "s3cret" },
      { mode: "header_secret", header: "Secret", secret: "with inner spaces" },
    ]
  ) {
    const answer = await t.call("POST", "/api/hooks", { body: { name: "x", verification } });
    expectStatus(answer, 201);
  }
});

Deno.test("GET /api/hooks lists only the caller's hooks, with a cursor", async () => {
  await using t = await InboundHarness.start();
  for (let i = 0; i < 3; i++) await t.createHook({ name: `h${i}`, verification: { mode: "none" } });
  const alice = await t.mintKey("alice", ["read:jobs", "write:jobs"]);
  await t.createHook({ name: "alice's", verification: { mode: "none" } }, alice);

  const first = await t.call<HookView[]>("GET", "/api/hooks?limit=2");
  expectStatus(first, 200);
  assert.equal(first.body.data.length, 2);
  assert.ok(first.body.cursor);
  const second = await t.call<HookView[]>(
    "GET",
    `/api/hooks?limit=2&cursor=${first.body.cursor}`,
  );
  assert.equal(second.body.data.length, 1);
  assert.equal(second.body.cursor, null);
  const names = [...first.body.data, ...second.body.data].map((h) => h.name).sort();
  assert.deepEqual(names, ["h0", "h1", "h2"]);

  const theirs = await t.call<HookView[]>("GET", "/api/hooks", { key: alice });
  assert.deepEqual(theirs.body.data.map((h) => h.name), ["alice's"]);
});

Deno.test("Another user's hook answers 404 to every route", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" } });
  await t.send(hook, '{"a":1}');
  await t.settle();
  const events = await t.call<{ id: string }[]>("GET", `/api/hooks/${hook.id}/events`);
  const eventId = events.body.data[0].id;
  const bob = await t.mintKey("bob", ["read:jobs", "write:jobs"]);
  for (
    const [method, path, body] of [
      ["GET", `/api/hooks/${hook.id}`],
      ["PATCH", `/api/hooks/${hook.id}`, { name: "mine now" }],
      ["DELETE", `/api/hooks/${hook.id}`],
      ["GET", `/api/hooks/${hook.id}/events`],
      ["GET", `/api/hooks/${hook.id}/events/${eventId}`],
      ["POST", `/api/hooks/${hook.id}/events/${eventId}/replay`],
    ] as const
  ) {
    expectError(await t.call(method, path, { key: bob, body }), 404, "NOT_FOUND");
  }
  expectStatus(await t.call("GET", `/api/hooks/${hook.id}`), 200);
});

Deno.test("Hooks need read:jobs to read and write:jobs to change; neither implies the other", async () => {
  await using t = await InboundHarness.start();
  const reader = await t.mintKey("default", ["read:jobs"]);
  const logs = await t.mintKey("default", ["read:logs", "write:logs"]);
  const writer = await t.mintKey("default", ["write:jobs"]);
  const admin = await t.mintKey("default", ["admin"]);
  const body = { name: "x", verification: { mode: "none" } };
  expectError(await t.call("POST", "/api/hooks", { key: reader, body }), 403, "FORBIDDEN");
  expectError(await t.call("POST", "/api/hooks", { key: logs, body }), 403, "FORBIDDEN");
  expectError(await t.call("POST", "/api/hooks", { key: admin, body }), 403, "FORBIDDEN");
  expectError(await t.call("GET", "/api/hooks", { key: logs }), 403, "FORBIDDEN");
  expectError(await t.call("GET", "/api/hooks", { key: null }), 401, "UNAUTHORIZED");
  const created = await t.call<HookView>("POST", "/api/hooks", { key: writer, body });
  expectStatus(created, 201);
  for (const path of ["/api/hooks", `/api/hooks/${created.body.data.id}`]) {
    const refused = expectError(await t.call("GET", path, { key: writer }), 403, "FORBIDDEN");
    assert.match(refused.message, /read:jobs/);
    expectError(await t.call("GET", path, { key: admin }), 403, "FORBIDDEN");
    expectStatus(await t.call("GET", path, { key: reader }), 200);
  }
});

Deno.test("PATCH /api/hooks/:id changes fields, and a new relay secret is shown once", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "github", secret: "gh-secret-123" } });
  const answer = await t.call<HookView>("PATCH", `/api/hooks/${hook.id}`, {
    body: {
      name: "renamed",
      enabled: false,
      maxBodyBytes: 2048,
      action: { type: "relay", url: "https://example.com/relay" },
    },
  });
  expectStatus(answer, 200);
  const changed = answer.body.data;
  assert.equal(changed.name, "renamed");
  assert.equal(changed.enabled, false);
  assert.equal(changed.maxBodyBytes, 2048);
  assert.equal(changed.verification.secret, "…");
  assert.match(changed.action.secret!, /^whsec_.{44}$/);

  // Changing the relay target keeps the secret the receiver already trusts.
  const again = await t.call<HookView>("PATCH", `/api/hooks/${hook.id}`, {
    body: { action: { type: "relay", url: "https://example.org/relay" } },
  });
  assert.equal(again.body.data.action.secret, changed.action.secret!.slice(0, 10) + "…");
  expectError(
    await t.call("PATCH", `/api/hooks/${hook.id}`, { body: { verification: { mode: "x" } } }),
    400,
    "INVALID_REQUEST",
    "verification",
  );
});

Deno.test("DELETE /api/hooks/:id removes the hook, its endpoint and its events", async () => {
  await using t = await InboundHarness.start();
  const hook = await t.createHook({ verification: { mode: "none" } });
  assert.equal((await t.send(hook, '{"n":1}')).status, 200);
  await t.settle();
  expectStatus(await t.call("DELETE", `/api/hooks/${hook.id}`), 200);
  expectError(await t.call("GET", `/api/hooks/${hook.id}`), 404, "NOT_FOUND");
  assert.equal((await t.send(hook, '{"n":2}')).status, 404);
  let left = 0;
  for (const prefix of ["inbound_event", "inbound_body", "inbound_hook", "inbound_hook_of"]) {
    for await (const _ of t.kv.list({ prefix: [prefix] })) left++;
  }
  assert.equal(left, 0);
});
