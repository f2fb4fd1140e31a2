/**
 * Every `/api` route against every single scope: a key holding only the route's scope gets
 * through, a key holding any other scope gets 403. The table is the contract; adding a route
 * without a row here is the mistake this test exists to catch.
 */
import assert from "node:assert/strict";
import type { Scope } from "../lib/store/types.ts";
import { expectError, expectStatus, TestSystem } from "./helpers.ts";

const SCOPES: Scope[] = ["read:jobs", "write:jobs", "read:logs", "write:logs", "admin"];

/** Ids of records that exist before the route is called. */
interface Fixture {
  jobId: string;
  runId: string;
  keyId: string;
}

interface Route {
  method: string;
  path: (f: Fixture) => string;
  body?: unknown;
  scope: Scope;
  /** What a key holding the scope gets. */
  status: number;
}

const ROUTES: Route[] = [
  { method: "GET", path: () => "/api/jobs", scope: "read:jobs", status: 200 },
  {
    method: "POST",
    path: () => "/api/jobs",
    body: { name: "New", url: "https://example.com/", schedule: "@hourly" },
    scope: "write:jobs",
    status: 201,
  },
  { method: "GET", path: (f) => `/api/jobs/${f.jobId}`, scope: "read:jobs", status: 200 },
  {
    method: "PATCH",
    path: (f) => `/api/jobs/${f.jobId}`,
    body: { name: "Renamed" },
    scope: "write:jobs",
    status: 200,
  },
  { method: "DELETE", path: (f) => `/api/jobs/${f.jobId}`, scope: "write:jobs", status: 200 },
  { method: "POST", path: (f) => `/api/jobs/${f.jobId}/run`, scope: "write:jobs", status: 202 },
  { method: "GET", path: (f) => `/api/jobs/${f.jobId}/next`, scope: "read:jobs", status: 200 },
  { method: "GET", path: (f) => `/api/jobs/${f.jobId}/runs`, scope: "read:logs", status: 200 },
  {
    method: "GET",
    path: (f) => `/api/jobs/${f.jobId}/runs/${f.runId}`,
    scope: "read:logs",
    status: 200,
  },
  { method: "GET", path: () => "/api/keys", scope: "admin", status: 200 },
  {
    method: "POST",
    path: () => "/api/keys",
    body: { name: "Minted", scopes: ["admin"] },
    scope: "admin",
    status: 201,
  },
  { method: "DELETE", path: (f) => `/api/keys/${f.keyId}`, scope: "admin", status: 200 },
];

const pattern = (route: Route) => route.path({ jobId: ":id", runId: ":runId", keyId: ":id" });

async function fixture(t: TestSystem): Promise<Fixture> {
  const job = await t.createJob();
  const run = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  expectStatus(run, 202);
  await t.settle();
  const spare = await t.createKey(["read:jobs"]);
  return { jobId: job.id, runId: run.body.data.runId, keyId: spare.record.id };
}

for (const route of ROUTES) {
  Deno.test(`${route.method} ${pattern(route)} needs the ${route.scope} scope and no other`, async (ctx) => {
    await using t = await TestSystem.start();
    const f = await fixture(t);
    const keys = new Map<Scope, string>();
    for (const scope of SCOPES) keys.set(scope, (await t.createKey([scope])).key);

    // The missing-scope keys go first, so a route that changes state (DELETE) still finds
    // its record when the key that may use it comes last.
    const order = [...SCOPES.filter((s) => s !== route.scope), route.scope];
    for (const scope of order) {
      const allowed = scope === route.scope;
      await ctx.step(
        `a key with only ${scope} ${allowed ? "gets through" : "gets 403"}`,
        async () => {
          const answer = await t.call(route.method, route.path(f), {
            key: keys.get(scope)!,
            body: route.body,
          });
          if (allowed) {
            assert.ok(
              answer.status !== 401 && answer.status !== 403,
              `a key with ${scope} was refused: ${JSON.stringify(answer.body)}`,
            );
            expectStatus(answer, route.status);
          } else {
            const error = expectError(answer, 403, "FORBIDDEN");
            assert.ok(error.message.includes(route.scope), `403 should name ${route.scope}`);
          }
        },
      );
    }
    await t.settle();
  });
}

Deno.test("the scope matrix covers every /api route the app registers", async () => {
  await using t = await TestSystem.start();
  const registered = new Set(
    t.system.app.routes
      .filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/\/$/, "")}`),
  );
  const tabled = new Set(ROUTES.map((r) => `${r.method} ${pattern(r)}`));
  assert.deepEqual(registered, tabled);
});

Deno.test("the scope check comes before the record lookup, so an unknown id still gets 403", async () => {
  await using t = await TestSystem.start();
  const { key } = await t.createKey(["write:logs"]);
  const unknown = { jobId: crypto.randomUUID(), runId: "1-local", keyId: crypto.randomUUID() };
  for (const route of ROUTES) {
    const answer = await t.call(route.method, route.path(unknown), { key, body: route.body });
    expectError(answer, 403, "FORBIDDEN");
  }
});
