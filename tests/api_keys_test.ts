/** Authentication, `/api/keys`, and what one user's keys can reach of another user's jobs. */
import assert from "node:assert/strict";
import type { ApiKey, JobView, Run } from "../lib/store/types.ts";
import { expectError, expectStatus, ROOT_KEY, T0, TestSystem } from "./helpers.ts";

const ALL_SCOPES = ["read:jobs", "write:jobs", "read:logs", "write:logs", "admin"] as const;

// ---------------------------------------------------------------------------------------------
// Authentication

Deno.test("/api answers 401 with a WWW-Authenticate challenge when no key is sent", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call("GET", "/api/jobs", { key: null });
  const error = expectError(answer, 401, "UNAUTHORIZED");
  assert.match(error.message, /Bearer/);
  assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer /);
});

Deno.test("/api answers 401 for a wrong key, whatever its shape", async () => {
  await using t = await TestSystem.start();
  const wrong = [
    "hk_" + "A".repeat(43),
    ROOT_KEY + "x",
    ROOT_KEY.slice(0, -1),
    "not-a-key",
    "hk_" + "A".repeat(300),
  ];
  for (const key of wrong) {
    expectError(await t.call("GET", "/api/jobs", { key }), 401, "UNAUTHORIZED");
  }
});

Deno.test("/api answers 401 for a scheme other than Bearer", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call("GET", "/api/jobs", {
    key: null,
    headers: { Authorization: `Basic ${btoa(`default:${ROOT_KEY}`)}` },
  });
  expectError(answer, 401, "UNAUTHORIZED");
});

Deno.test("/api accepts the bearer scheme in any case", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call("GET", "/api/jobs", {
    key: null,
    headers: { Authorization: `bearer ${ROOT_KEY}` },
  });
  expectStatus(answer, 200);
});

// ---------------------------------------------------------------------------------------------
// Creating and listing keys

Deno.test("POST /api/keys answers 201 with the key once, and never its hash", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call<ApiKey & { key: string }>("POST", "/api/keys", {
    body: { name: "CI", scopes: ["read:logs", "read:jobs", "read:jobs"] },
  });
  expectStatus(answer, 201);
  assert.equal(answer.body.success, true);
  const data = answer.body.data;
  assert.match(data.key, /^hk_[A-Za-z0-9_-]{40,}$/);
  assert.equal("hash" in data, false, "the hash is never shown");
  assert.equal(data.name, "CI");
  assert.equal(data.userId, "default");
  assert.deepEqual(data.scopes, ["read:jobs", "read:logs"], "scopes are deduplicated and ordered");
  assert.ok(data.key.startsWith(data.prefix), "the prefix is the start of the key");
  assert.equal(data.createdAt, new Date(T0).toISOString());

  expectStatus(await t.call("GET", "/api/jobs", { key: data.key }), 200);
});

Deno.test("POST /api/keys names a key 'API key' when no name is given", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call<ApiKey>("POST", "/api/keys", { body: { scopes: ["read:jobs"] } });
  expectStatus(answer, 201);
  assert.equal(answer.body.data.name, "API key");
});

Deno.test("GET /api/keys lists the caller's keys without key text or hash", async () => {
  await using t = await TestSystem.start();
  const a = await t.createKey(["read:jobs"]);
  const b = await t.createKey(["admin"]);
  await t.createKey(["admin"], "acme");
  const answer = await t.call<ApiKey[]>("GET", "/api/keys");
  expectStatus(answer, 200);
  const listed = answer.body.data;
  assert.deepEqual(listed.map((k) => k.id).sort(), [a.record.id, b.record.id].sort());
  for (const key of listed) {
    assert.equal("key" in key, false);
    assert.equal("hash" in key, false);
    assert.equal(key.userId, "default");
  }
});

interface BadKeyCase {
  what: string;
  body: unknown;
  field: string;
}

const BAD_KEYS: BadKeyCase[] = [
  { what: "an unknown scope", body: { scopes: ["read:jobs", "root"] }, field: "scopes" },
  { what: "no scopes", body: { name: "x" }, field: "scopes" },
  { what: "an empty scope list", body: { scopes: [] }, field: "scopes" },
  { what: "scopes that are not a list", body: { scopes: "admin" }, field: "scopes" },
  { what: "an unknown field", body: { scopes: ["admin"], role: "owner" }, field: "role" },
  { what: "an empty name", body: { name: " ", scopes: ["admin"] }, field: "name" },
  { what: "a malformed userId", body: { scopes: ["admin"], userId: "a b" }, field: "userId" },
];

for (const c of BAD_KEYS) {
  Deno.test(`POST /api/keys answers 400 naming ${c.field} for ${c.what}`, async () => {
    await using t = await TestSystem.start();
    expectError(
      await t.call("POST", "/api/keys", { body: c.body }),
      400,
      "INVALID_REQUEST",
      c.field,
    );
  });
}

Deno.test("POST /api/keys answers 400 for a body that is not a JSON object", async () => {
  await using t = await TestSystem.start();
  for (const body of ["not json", "[]", "null"]) {
    expectError(await t.call("POST", "/api/keys", { body }), 400, "INVALID_REQUEST");
  }
});

Deno.test("POST /api/keys answers 403 when the key would get a scope the caller lacks", async () => {
  await using t = await TestSystem.start();
  const admin = await t.createKey(["admin"]);
  const answer = await t.call("POST", "/api/keys", {
    key: admin.key,
    body: { scopes: ["admin", "read:jobs"] },
  });
  const error = expectError(answer, 403, "FORBIDDEN");
  assert.match(error.message, /read:jobs/);

  const adminReader = await t.createKey(["read:jobs", "admin"]);
  const allowed = await t.call("POST", "/api/keys", {
    key: adminReader.key,
    body: { scopes: ["read:jobs"] },
  });
  expectStatus(allowed, 201);
});

Deno.test("POST /api/keys lets the root key and a default-user admin key mint keys for another user", async () => {
  await using t = await TestSystem.start();
  const byRoot = await t.call<ApiKey>("POST", "/api/keys", {
    body: { scopes: ["read:jobs"], userId: "acme" },
  });
  expectStatus(byRoot, 201);
  assert.equal(byRoot.body.data.userId, "acme");

  const operator = await t.createKey([...ALL_SCOPES]);
  const byOperator = await t.call<ApiKey>("POST", "/api/keys", {
    key: operator.key,
    body: { scopes: ["admin"], userId: "acme" },
  });
  expectStatus(byOperator, 201);
  assert.equal(byOperator.body.data.userId, "acme");
});

Deno.test("POST /api/keys answers 403 when a tenant admin mints a key for another user", async () => {
  await using t = await TestSystem.start();
  const acme = await t.createKey([...ALL_SCOPES], "acme");
  for (const userId of ["default", "globex"]) {
    const answer = await t.call("POST", "/api/keys", {
      key: acme.key,
      body: { scopes: ["read:jobs"], userId },
    });
    expectError(answer, 403, "FORBIDDEN");
  }
  const own = await t.call<ApiKey>("POST", "/api/keys", {
    key: acme.key,
    body: { scopes: ["read:jobs"] },
  });
  expectStatus(own, 201);
  assert.equal(own.body.data.userId, "acme", "a tenant's keys are minted for the tenant");

  const explicit = await t.call<ApiKey>("POST", "/api/keys", {
    key: acme.key,
    body: { scopes: ["read:jobs"], userId: "acme" },
  });
  expectStatus(explicit, 201);
});

Deno.test("GET /api/keys shows a tenant admin only the tenant's keys", async () => {
  await using t = await TestSystem.start();
  await t.createKey(["admin"]);
  const acme = await t.createKey(["admin"], "acme");
  const answer = await t.call<ApiKey[]>("GET", "/api/keys", { key: acme.key });
  expectStatus(answer, 200);
  assert.deepEqual(answer.body.data.map((k) => k.id), [acme.record.id]);
});

Deno.test("GET /api/keys pages through every key once with a cursor", async () => {
  await using t = await TestSystem.start();
  const created = new Set<string>();
  for (let i = 0; i < 5; i++) created.add((await t.createKey(["read:jobs"])).record.id);
  const seen: string[] = [];
  let cursor: string | null | undefined = undefined;
  for (let page = 0; page < 5 && cursor !== null; page++) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const answer = await t.call<ApiKey[]>("GET", `/api/keys?limit=2${query}`);
    expectStatus(answer, 200);
    seen.push(...answer.body.data.map((k) => k.id));
    cursor = answer.body.cursor;
  }
  assert.equal(cursor, null);
  assert.equal(seen.length, 5, "no key is listed twice");
  assert.deepEqual(new Set(seen), created);
});

// ---------------------------------------------------------------------------------------------
// Deleting keys

Deno.test("DELETE /api/keys/:id answers 200, then the deleted key answers 401", async () => {
  await using t = await TestSystem.start();
  const reader = await t.createKey(["read:jobs"]);
  expectStatus(await t.call("GET", "/api/jobs", { key: reader.key }), 200);

  const answer = await t.call("DELETE", `/api/keys/${reader.record.id}`);
  expectStatus(answer, 200);
  assert.equal(answer.body.success, true);
  expectError(await t.call("GET", "/api/jobs", { key: reader.key }), 401, "UNAUTHORIZED");
  const listed = await t.call<ApiKey[]>("GET", "/api/keys");
  assert.deepEqual(listed.body.data, []);
  expectError(await t.call("DELETE", `/api/keys/${reader.record.id}`), 404, "NOT_FOUND");
});

Deno.test("DELETE /api/keys/:id answers 404 for another user's key and leaves it working", async () => {
  await using t = await TestSystem.start();
  const acme = await t.createKey([...ALL_SCOPES], "acme");
  const operatorKey = await t.createKey(["read:jobs"]);
  const answer = await t.call("DELETE", `/api/keys/${operatorKey.record.id}`, { key: acme.key });
  expectError(answer, 404, "NOT_FOUND");
  expectStatus(await t.call("GET", "/api/jobs", { key: operatorKey.key }), 200);
});

Deno.test("DELETE /api/keys/:id answers 404 for an unknown id", async () => {
  await using t = await TestSystem.start();
  expectError(await t.call("DELETE", `/api/keys/${crypto.randomUUID()}`), 404, "NOT_FOUND");
});

// ---------------------------------------------------------------------------------------------
// Tenant isolation

Deno.test("a tenant's keys get 404 for every route on another user's job, which stays intact", async (t) => {
  await using sys = await TestSystem.start();
  const job = await sys.createJob();
  const run = await sys.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  expectStatus(run, 202);
  await sys.settle();
  const before = await sys.call<JobView>("GET", `/api/jobs/${job.id}`);
  assert.equal(before.body.data.count, 1);

  const acme = await sys.createKey([...ALL_SCOPES], "acme");
  const routes: [string, string, unknown?][] = [
    ["GET", `/api/jobs/${job.id}`],
    ["PATCH", `/api/jobs/${job.id}`, { name: "Taken over" }],
    ["DELETE", `/api/jobs/${job.id}`],
    ["POST", `/api/jobs/${job.id}/run`],
    ["GET", `/api/jobs/${job.id}/next`],
    ["GET", `/api/jobs/${job.id}/runs`],
    ["GET", `/api/jobs/${job.id}/runs/${run.body.data.runId}`],
  ];
  for (const [method, path, body] of routes) {
    const name = path.replace(job.id, ":id").replace(run.body.data.runId, ":runId");
    await t.step(`${method} ${name}`, async () => {
      expectError(await sys.call(method, path, { key: acme.key, body }), 404, "NOT_FOUND");
    });
  }
  await sys.settle();
  const after = await sys.call<JobView>("GET", `/api/jobs/${job.id}`);
  assert.deepEqual(after.body.data, before.body.data, "the job is untouched and did not run");
  const runs = await sys.call<Run[]>("GET", `/api/jobs/${job.id}/runs`);
  assert.equal(runs.body.data.length, 1);
});

Deno.test("GET /api/jobs lists only the caller's own jobs", async () => {
  await using t = await TestSystem.start();
  const acme = await t.createKey([...ALL_SCOPES], "acme");
  const operatorJob = await t.createJob({ name: "Operator" });
  const acmeJob = await t.createJob({ name: "Acme" }, acme.key);
  assert.equal(acmeJob.userId, "acme");

  const asAcme = await t.call<JobView[]>("GET", "/api/jobs", { key: acme.key });
  assert.deepEqual(asAcme.body.data.map((j) => j.id), [acmeJob.id]);
  const asRoot = await t.call<JobView[]>("GET", "/api/jobs");
  assert.deepEqual(asRoot.body.data.map((j) => j.id), [operatorJob.id]);
  expectError(await t.call("GET", `/api/jobs/${acmeJob.id}`), 404, "NOT_FOUND");
});
