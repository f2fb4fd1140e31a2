/**
 * Ids longer than a Deno KV key can hold, on every route that takes one: in the path they are
 * no such record (404), in a create's body bad input (400), never a 500, and never logged
 * whole. The path table is the app's own list of routes, so a new route is covered at once.
 */
import assert from "node:assert/strict";
import { AdminTestSystem } from "./admin_client.ts";
import { expectError, TestSystem } from "./helpers.ts";

const LONG = "a".repeat(3000);
const WORKER_KEY = "long-ids-worker-key-0123456789";

/** Every route with a parameter in its path, each parameter filled with `LONG`. */
function routesWithIds(t: { system: { app: { routes: { method: string; path: string }[] } } }) {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const { method, path } of t.system.app.routes) {
    if (!path.includes("/:")) continue;
    const filled = path.replace(/:[A-Za-z]+/g, LONG);
    for (const verb of method === "ALL" ? ["GET"] : [method]) {
      const key = `${verb} ${path}`;
      if (!seen.has(key)) out.push({ method: verb, path: filled });
      seen.add(key);
    }
  }
  return out;
}

/** Runs `work` with every console line kept, then asserts none of them holds the whole id. */
async function withLogs<T>(work: () => Promise<T>): Promise<T> {
  const lines: string[] = [];
  const saved = { error: console.error, warn: console.warn, log: console.log };
  const keep = (...args: unknown[]) => {
    lines.push(args.map((a) => a instanceof Error ? `${a.stack}` : String(a)).join(" "));
  };
  Object.assign(console, { error: keep, warn: keep, log: keep });
  try {
    return await work();
  } finally {
    Object.assign(console, saved);
    const whole = lines.filter((line) => line.includes(LONG));
    assert.deepEqual(whole.map((line) => line.slice(0, 200)), [], "a log line holds the whole id");
  }
}

Deno.test("a 3,000-character id in the path of any API route is 404 in the API's envelope", async () => {
  await using t = await TestSystem.start({ env: { PINGMON_WORKER_API_KEY: WORKER_KEY } });
  // The admin pages and the public status pages answer HTML, pings plain text: tests of their
  // own below.
  const routes = routesWithIds(t).filter((r) =>
    !r.path.startsWith("/admin") && !r.path.startsWith("/status/") &&
    !r.path.startsWith("/ping/")
  );
  // The families the table must reach, so a change in routing cannot empty it unnoticed.
  for (const family of ["jobs", "keys", "workers", "credentials", "hooks", "webhooks"]) {
    assert.ok(routes.some((r) => r.path.startsWith(`/api/${family}/`)), family);
  }
  assert.ok(routes.some((r) => r.path.includes("/runs/")));
  assert.ok(routes.some((r) => r.path.startsWith("/api/deliveries/")));
  assert.ok(routes.some((r) => r.path.startsWith("/hooks/")));
  await withLogs(async () => {
    for (const { method, path } of routes) {
      const body = method === "GET" || method === "DELETE" ? undefined : {};
      const answer = await t.call(method, path, { body });
      const error = expectError(answer, 404, "NOT_FOUND");
      const what = `${method} ${path.slice(0, 40)}: ${error.message.slice(0, 100)}`;
      assert.ok(error.message.length < 200, what);
    }
  });
});

Deno.test("a 3,000-character id chosen by the client in a body is refused as bad input", async () => {
  await using t = await TestSystem.start({ env: { PINGMON_WORKER_API_KEY: WORKER_KEY } });
  const job = await t.createJob();
  await withLogs(async () => {
    expectError(
      await t.call("POST", "/api/workers", { body: { id: LONG } }),
      400,
      "INVALID_REQUEST",
    );
    const webhook = await t.call("POST", "/api/webhooks", {
      body: { jobId: LONG, endpoint: "https://example.com/hook" },
    });
    const error = expectError(webhook, 400, "INVALID_REQUEST", "jobId");
    assert.doesNotMatch(error.message, /required/);
    const workers = await t.call("PATCH", `/api/jobs/${job.id}`, {
      body: { workers: [{ workerId: LONG }] },
    });
    expectError(workers, 400, "INVALID_REQUEST");
    const hook = await t.call("POST", "/api/hooks", {
      body: { name: "in", verification: { mode: "none" }, action: { type: "run", jobId: LONG } },
    });
    expectError(hook, 400, "INVALID_REQUEST");
  });
});

Deno.test("a worker asking with a 3,000-character worker_id is an unknown worker", async () => {
  await using t = await TestSystem.start({ env: { PINGMON_WORKER_API_KEY: WORKER_KEY } });
  await withLogs(async () => {
    const response = await t.system.app.request("/functions/v1/get-monitors-to-check", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Pingmon-API-Key": WORKER_KEY },
      body: JSON.stringify({ worker_id: LONG }),
    });
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), {
      success: false,
      error: { code: "WORKER_NOT_FOUND", message: "Worker not found" },
    });
  });
});

Deno.test("a 3,000-character id in the path of any admin page is the Not found page", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  const routes = routesWithIds(s).filter((r) => r.path.startsWith("/admin/"));
  assert.ok(routes.length >= 10, `only ${routes.length} admin routes with ids`);
  await withLogs(async () => {
    for (const { method, path } of routes) {
      const page = method === "GET" ? await client.get(path) : await client.post(path);
      assert.equal(page.status, 404, `${method} ${path.slice(0, 60)}`);
      assert.match(page.html, /Not found/);
    }
  });
});

Deno.test("a 3,000-character slug or job id on a public status page answers 404", async () => {
  await using t = await TestSystem.start();
  const routes = routesWithIds(t).filter((r) => r.path.startsWith("/status/"));
  assert.ok(routes.length >= 3);
  await withLogs(async () => {
    for (const { method, path } of routes) {
      const response = await t.system.app.request(path, { method });
      await response.body?.cancel();
      assert.equal(response.status, 404, `${method} ${path.slice(0, 60)}`);
    }
  });
});

Deno.test("a 3,000-character ping token is a plain 404, on every ping route, and never logged", async () => {
  await using t = await TestSystem.start();
  const routes = routesWithIds(t).filter((r) => r.path.startsWith("/ping/"));
  assert.ok(routes.length >= 2, "the ping routes are in the table");
  await withLogs(async () => {
    for (const { method, path } of routes) {
      const answer = await t.system.app.request(path, { method });
      assert.equal(answer.status, 404, `${method} ${path.slice(0, 40)}`);
      assert.equal(await answer.text(), "Not found");
    }
  });
});
