/**
 * Every `/api` route against every single scope: a key holding only the route's scope gets
 * through, a key holding any other scope gets 403. The table is the contract; adding a route
 * without a row here is the mistake this test exists to catch.
 */
import assert from "node:assert/strict";
import type { Scope } from "../lib/store/types.ts";
import type { ProbeRequest, ProbeResult } from "../lib/net/probe.ts";
import type { NotifySend } from "../lib/alerts/types.ts";
import { expectError, expectStatus, okProbe, TestSystem } from "./helpers.ts";

const SCOPES: Scope[] = ["read:jobs", "write:jobs", "read:logs", "write:logs", "admin"];

/** Ids of records that exist before the route is called. */
interface Fixture {
  jobId: string;
  runId: string;
  keyId: string;
  /** A job with a webhook whose endpoint fails, so its delivery stays pending. */
  hookJobId: string;
  deliveryId: string;
  workerId: string;
  hookId: string;
  eventId: string;
  /** No credential exists: the routes answer 404 (or 400) past the scope check. */
  credentialId: string;
  maintenanceId: string;
  channelId: string;
  /** No incident exists: the routes answer 404 past the scope check. */
  incidentId: string;
  statusPageId: string;
}

interface Route {
  method: string;
  path: (f: Fixture) => string;
  body?: unknown;
  /** The one scope the route needs. */
  scope: Scope;
  /** What a key holding the scope gets. */
  status: number;
}

/**
 * Inbound hooks start and feed jobs, so they go with the jobs' scopes, like jobs: reading needs
 * read:jobs (write:jobs alone cannot read), changing needs write:jobs, and admin is neither.
 */
const HOOK_READ: Scope = "read:jobs";
const HOOK_WRITE: Scope = "write:jobs";
/** Notification channels decide who hears of a job's outages: the jobs' scopes too. */
const CHANNEL_READ: Scope = "read:jobs";
const CHANNEL_WRITE: Scope = "write:jobs";

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
  // Maintenance windows silence jobs' alerts: they go with the jobs' scopes.
  { method: "GET", path: () => "/api/maintenance", scope: "read:jobs", status: 200 },
  {
    method: "POST",
    path: () => "/api/maintenance",
    body: { name: "Nightly", all: true, schedule: "0 3 * * *", durationMinutes: 30 },
    scope: "write:jobs",
    status: 201,
  },
  {
    method: "GET",
    path: (f) => `/api/maintenance/${f.maintenanceId}`,
    scope: "read:jobs",
    status: 200,
  },
  {
    method: "PATCH",
    path: (f) => `/api/maintenance/${f.maintenanceId}`,
    body: { name: "Renamed" },
    scope: "write:jobs",
    status: 200,
  },
  {
    method: "DELETE",
    path: (f) => `/api/maintenance/${f.maintenanceId}`,
    scope: "write:jobs",
    status: 200,
  },
  {
    method: "POST",
    path: (f) => `/api/maintenance/${f.maintenanceId}/end`,
    scope: "write:jobs",
    status: 200,
  },
  { method: "GET", path: (f) => `/api/jobs/${f.jobId}/state`, scope: "read:jobs", status: 200 },
  { method: "GET", path: (f) => `/api/jobs/${f.jobId}/uptime`, scope: "read:jobs", status: 200 },
  // Incidents are about jobs: reading them needs read:jobs, acknowledging write:jobs.
  { method: "GET", path: () => "/api/incidents", scope: "read:jobs", status: 200 },
  { method: "GET", path: (f) => `/api/incidents/${f.incidentId}`, scope: "read:jobs", status: 404 },
  {
    method: "POST",
    path: (f) => `/api/incidents/${f.incidentId}/acknowledge`,
    scope: "write:jobs",
    status: 404,
  },
  {
    method: "POST",
    path: (f) => `/api/incidents/${f.incidentId}/updates`,
    body: { message: "Looking into it" },
    scope: "write:jobs",
    status: 404,
  },
  // Status pages publish jobs' states: they go with the jobs' scopes.
  { method: "GET", path: () => "/api/status-pages", scope: "read:jobs", status: 200 },
  {
    method: "POST",
    path: () => "/api/status-pages",
    body: { slug: "matrix-two", title: "Two", groups: [] },
    scope: "write:jobs",
    status: 201,
  },
  {
    method: "GET",
    path: (f) => `/api/status-pages/${f.statusPageId}`,
    scope: "read:jobs",
    status: 200,
  },
  {
    method: "PATCH",
    path: (f) => `/api/status-pages/${f.statusPageId}`,
    body: { title: "Renamed" },
    scope: "write:jobs",
    status: 200,
  },
  {
    method: "DELETE",
    path: (f) => `/api/status-pages/${f.statusPageId}`,
    scope: "write:jobs",
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
  { method: "GET", path: () => "/api/workers", scope: "admin", status: 200 },
  {
    method: "POST",
    path: () => "/api/workers",
    body: { id: "eu-west-1" },
    scope: "admin",
    status: 201,
  },
  {
    method: "PATCH",
    path: (f) => `/api/workers/${f.workerId}`,
    body: { is_active: false },
    scope: "admin",
    status: 200,
  },
  { method: "GET", path: () => "/api/credentials", scope: "admin", status: 200 },
  {
    method: "POST",
    path: () => "/api/credentials",
    body: { type: "gcp_service_account", key: "not json" },
    scope: "admin",
    status: 400,
  },
  { method: "GET", path: (f) => `/api/credentials/${f.credentialId}`, scope: "admin", status: 404 },
  {
    method: "DELETE",
    path: (f) => `/api/credentials/${f.credentialId}`,
    scope: "admin",
    status: 404,
  },
  { method: "GET", path: () => "/api/hooks", scope: HOOK_READ, status: 200 },
  {
    method: "POST",
    path: () => "/api/hooks",
    body: { name: "github", verification: { mode: "none" }, action: { type: "store" } },
    scope: HOOK_WRITE,
    status: 201,
  },
  { method: "GET", path: (f) => `/api/hooks/${f.hookId}`, scope: HOOK_READ, status: 200 },
  {
    method: "PATCH",
    path: (f) => `/api/hooks/${f.hookId}`,
    body: { name: "renamed" },
    scope: HOOK_WRITE,
    status: 200,
  },
  { method: "DELETE", path: (f) => `/api/hooks/${f.hookId}`, scope: HOOK_WRITE, status: 200 },
  { method: "GET", path: (f) => `/api/hooks/${f.hookId}/events`, scope: HOOK_READ, status: 200 },
  {
    method: "GET",
    path: (f) => `/api/hooks/${f.hookId}/events/${f.eventId}`,
    scope: HOOK_READ,
    status: 200,
  },
  {
    method: "POST",
    path: (f) => `/api/hooks/${f.hookId}/events/${f.eventId}/replay`,
    scope: HOOK_WRITE,
    status: 202,
  },
  { method: "GET", path: () => "/api/channels", scope: CHANNEL_READ, status: 200 },
  {
    method: "POST",
    path: () => "/api/channels",
    body: { name: "pd", type: "pagerduty", config: { routingKey: "R".repeat(32) } },
    scope: CHANNEL_WRITE,
    status: 201,
  },
  { method: "GET", path: (f) => `/api/channels/${f.channelId}`, scope: CHANNEL_READ, status: 200 },
  {
    method: "PATCH",
    path: (f) => `/api/channels/${f.channelId}`,
    body: { name: "renamed" },
    scope: CHANNEL_WRITE,
    status: 200,
  },
  {
    method: "DELETE",
    path: (f) => `/api/channels/${f.channelId}`,
    scope: CHANNEL_WRITE,
    status: 200,
  },
  {
    method: "POST",
    path: (f) => `/api/channels/${f.channelId}/test`,
    scope: CHANNEL_WRITE,
    status: 200,
  },
  { method: "GET", path: () => "/api/webhooks", scope: "read:logs", status: 200 },
  {
    method: "POST",
    path: () => "/api/webhooks",
    body: { endpoint: "https://example.com/hook" },
    scope: "write:logs",
    status: 201,
  },
  { method: "GET", path: (f) => `/api/webhooks/${f.hookJobId}`, scope: "read:logs", status: 200 },
  {
    method: "PATCH",
    path: (f) => `/api/webhooks/${f.hookJobId}`,
    body: { headers: { "X-Team": "ops" } },
    scope: "write:logs",
    status: 200,
  },
  {
    method: "DELETE",
    path: (f) => `/api/webhooks/${f.hookJobId}`,
    scope: "write:logs",
    status: 200,
  },
  {
    method: "POST",
    path: (f) => `/api/webhooks/${f.hookJobId}/rotate`,
    scope: "write:logs",
    status: 200,
  },
  {
    method: "POST",
    path: (f) => `/api/webhooks/${f.hookJobId}/test`,
    scope: "write:logs",
    status: 202,
  },
  {
    method: "GET",
    path: (f) => `/api/webhooks/${f.hookJobId}/deliveries`,
    scope: "read:logs",
    status: 200,
  },
  {
    method: "GET",
    path: (f) => `/api/deliveries/${f.deliveryId}`,
    scope: "read:logs",
    status: 200,
  },
  {
    method: "DELETE",
    path: (f) => `/api/deliveries/${f.deliveryId}`,
    scope: "write:logs",
    status: 200,
  },
  {
    method: "POST",
    path: (f) => `/api/deliveries/${f.deliveryId}/redeliver`,
    scope: "write:logs",
    status: 202,
  },
];

const pattern = (route: Route) =>
  route.path({
    jobId: ":id",
    runId: ":runId",
    keyId: ":id",
    hookJobId: ":jobId",
    deliveryId: ":id",
    workerId: ":id",
    hookId: ":id",
    eventId: ":eventId",
    credentialId: ":id",
    maintenanceId: ":id",
    channelId: ":id",
    incidentId: ":id",
    statusPageId: ":id",
  });

async function fixture(t: TestSystem): Promise<Fixture> {
  const job = await t.createJob();
  const run = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  expectStatus(run, 202);
  await t.settle();
  const spare = await t.createKey(["read:jobs"]);
  const hookJob = await t.createJob();
  const hook = await t.call("POST", "/api/webhooks", {
    body: { jobId: hookJob.id, endpoint: "https://example.com/failing" },
  });
  expectStatus(hook, 201);
  const sent = await t.call<{ id: string }>("POST", `/api/webhooks/${hookJob.id}/test`);
  expectStatus(sent, 202);
  await t.settle();
  expectStatus(await t.call("POST", "/api/workers", { body: { id: "aws-tyo1a" } }), 201);
  const inbound = await t.call<{ id: string }>("POST", "/api/hooks", {
    body: { name: "in", verification: { mode: "none" }, action: { type: "store" } },
  });
  expectStatus(inbound, 201);
  const arrived = await t.system.app.request(`/hooks/${inbound.body.data.id}`, {
    method: "POST",
    body: '{"hello":"world"}',
    headers: { "Content-Type": "application/json" },
  });
  const eventId = (await arrived.json()).data.eventId;
  await t.settle();
  const maintenance = await t.call<{ id: string }>("POST", "/api/maintenance", {
    body: { name: "m", jobIds: [job.id], schedule: "0 3 * * *", durationMinutes: 30 },
  });
  expectStatus(maintenance, 201);
  const channel = await t.call<{ id: string }>("POST", "/api/channels", {
    body: { name: "pd", type: "pagerduty", config: { routingKey: "R".repeat(32) } },
  });
  expectStatus(channel, 201);
  const statusPage = await t.call<{ id: string }>("POST", "/api/status-pages", {
    body: { slug: "matrix", title: "Matrix", groups: [{ name: "G", jobIds: [job.id] }] },
  });
  expectStatus(statusPage, 201);
  return {
    statusPageId: statusPage.body.data.id,
    maintenanceId: maintenance.body.data.id,
    channelId: channel.body.data.id,
    incidentId: "inc_missing",
    credentialId: "cred_missing",
    hookId: inbound.body.data.id,
    eventId,
    workerId: "aws-tyo1a",
    jobId: job.id,
    runId: run.body.data.runId,
    keyId: spare.record.id,
    hookJobId: hookJob.id,
    deliveryId: sent.body.data.id,
  };
}

/** Channel tests answer at once, without the network. */
const notify: NotifySend = () =>
  Promise.resolve({
    success: true,
    status: 202,
    durationMs: 1,
    error: null,
    response: "",
    permanent: false,
    retryAfterMs: null,
  });

/** The fixture's webhook endpoint fails, so its delivery waits for a retry. */
function probe(request: ProbeRequest): ProbeResult {
  if (!request.url.endsWith("/failing")) return okProbe();
  return { ...okProbe(), success: false, code: 503, failure: "Expected status 2xx, got 503" };
}

for (const route of ROUTES) {
  const needed = [route.scope];
  Deno.test(`${route.method} ${pattern(route)} needs ${route.scope} and no other scope`, async (ctx) => {
    await using t = await TestSystem.start({ probe, notify });
    const f = await fixture(t);
    if (route.method === "POST" && route.path(f) === "/api/webhooks") {
      (route.body as Record<string, unknown>).jobId = f.jobId;
    }
    const keys = new Map<Scope, string>();
    for (const scope of SCOPES) keys.set(scope, (await t.createKey([scope])).key);

    // The missing-scope keys go first, so a route that changes state (DELETE) still finds
    // its record when the key that may use it comes last.
    const order = [...SCOPES.filter((s) => !needed.includes(s)), ...needed];
    for (const scope of order) {
      const allowed = needed.includes(scope);
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
            // Only the first key let through finds the record as the fixture left it (a
            // DELETE with one scope leaves nothing for the next).
            if (scope === needed[0]) expectStatus(answer, route.status);
          } else {
            const error = expectError(answer, 403, "FORBIDDEN");
            assert.ok(error.message.includes(needed[0]), `403 should name ${needed[0]}`);
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

Deno.test("every route that only reads needs a read scope, never a write one", () => {
  for (const route of ROUTES.filter((r) => r.method === "GET")) {
    assert.ok(!route.scope.startsWith("write:"), `${route.method} ${pattern(route)}`);
  }
});

Deno.test("the scope check comes before the record lookup, so an unknown id still gets 403", async () => {
  await using t = await TestSystem.start();
  const admin = (await t.createKey(["admin"])).key;
  const reader = (await t.createKey(["read:jobs"])).key;
  const unknown = {
    jobId: crypto.randomUUID(),
    runId: "1-local",
    keyId: crypto.randomUUID(),
    hookJobId: crypto.randomUUID(),
    deliveryId: "wh_unknown",
    workerId: "nowhere",
    hookId: "hook_unknown",
    eventId: "evt_unknown",
    credentialId: "cred_unknown",
    maintenanceId: "mw_unknown",
    channelId: "ch_unknown",
    incidentId: "inc_unknown",
    statusPageId: "sp_unknown",
  };
  for (const route of ROUTES) {
    const key = route.scope === "admin" ? reader : admin;
    const answer = await t.call(route.method, route.path(unknown), { key, body: route.body });
    expectError(answer, 403, "FORBIDDEN");
  }
});
