/**
 * Seed 002's two functions as Supabase deploys them: each `supabase/functions/<name>/index.ts`
 * runs as its own `deno run` in its own folder (so with the function's own deno.json, as
 * `supabase functions deploy` bundles it), on the test suite's throwaway Postgres, and answers
 * the seed's curl examples and error cases word for word, as Hibiki's server does over the same
 * database, with the seed's log lines. A probe worker then goes through a stand-in of
 * Supabase's gateway to them, with the anon key, and its results land in `check_results`.
 */
import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { EdgeService } from "../lib/edge/edge_service.ts";
import { type EdgeFunctionName, edgeFunctions } from "../lib/edge/functions.ts";
import { createPostgresStores } from "../lib/store/postgres/mod.ts";
import type { Stores } from "../lib/store/stores.ts";
import type { Job } from "../lib/store/types.ts";
import { startFakeSupabaseGateway } from "./fakes/supabase_gateway.ts";
import { freshDatabase, type TestDatabase } from "./postgres_database.ts";
import { startFunction } from "./supabase_function_process.ts";
import { type Child, freePort, spawn } from "./subprocess.ts";
import { delay, startTarget } from "./target_server.ts";

const KEY = "supabase-functions-worker-key-0123456789";
/** The monitor of the seed's examples. */
const SEED_MONITOR = "550e8400-e29b-41d4-a716-446655440000";
const NAMES: EdgeFunctionName[] = ["get-monitors-to-check", "batch-save-results"];

interface Answer {
  status: number;
  body: unknown;
}

interface Project extends AsyncDisposable {
  db: TestDatabase;
  stores: Stores;
  /** The function processes, by name: their URL and output. */
  functions: Record<EdgeFunctionName, { url: string; child: Child }>;
  /** POSTs to the function file's process. */
  call(name: EdgeFunctionName, init?: RequestInit): Promise<Answer>;
  /** The same request to Hibiki's own handler (its server's), over the same database. */
  hibiki(name: EdgeFunctionName, init?: RequestInit): Promise<Answer>;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** A database with the seed's workers and monitor, and both function files serving it. */
async function startProject(env: Record<string, string> = {}): Promise<Project> {
  const db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  const created = new Date().toISOString();
  for (const [id, active] of [["aws-tyo1a", true], ["gcp-tyo1a", true], ["azure-tyo1", false]]) {
    await stores.workers.create({
      id: id as string,
      name: id as string,
      is_active: active as boolean,
      last_seen_at: null,
      created_at: created,
    });
  }
  await stores.records.createJob(seedMonitor(), null);
  const functions = {} as Project["functions"];
  for (const name of NAMES) {
    functions[name] = await startFunction(name, {
      SUPABASE_DB_URL: db.url,
      PINGMON_WORKER_API_KEY: KEY,
      ...env,
    });
  }
  const edge = new EdgeService({
    workers: stores.workers,
    clock: systemClock,
    maxAgeMs: 30 * 86_400_000,
    onAccepted: () => {},
  });
  const handlers = edgeFunctions({ edge, workerApiKey: KEY });
  const request = (url: string, init: RequestInit = {}) =>
    new Request(url, { method: "POST", ...init });
  return {
    db,
    stores,
    functions,
    call: async (name, init) => answer(await fetch(request(functions[name].url, init))),
    hibiki: async (name, init) =>
      answer(await handlers[name](request(`http://hibiki/functions/v1/${name}`, init))),
    async [Symbol.asyncDispose]() {
      for (const fn of Object.values(functions)) await fn.child[Symbol.asyncDispose]();
      await db[Symbol.asyncDispose]();
    },
  };
}

/** The seed's sample monitor as a Hibiki job checked by aws-tyo1a every 300 s at 0:00. */
function seedMonitor(fields: Partial<Job> = {}): Job {
  const stamp = new Date().toISOString();
  return {
    id: SEED_MONITOR,
    userId: "default",
    name: "API Health Check",
    url: "https://api.example.com/health",
    method: "GET",
    headers: { "Authorization": "Bearer xxx", "User-Agent": "Pingmon/1.0" },
    body: null,
    schedule: "@every 300s",
    timezone: "UTC",
    enabled: true,
    timeoutMs: 30_000,
    expect: { status: 200, bodyContains: "ok" },
    local: false,
    workers: [{ workerId: "aws-tyo1a", checkMinute: 0, checkSecond: 0 }],
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
}

/** The seed's curl headers. */
function curl(body: string, key: string | null = KEY): RequestInit {
  return {
    headers: {
      ...(key === null ? {} : { "X-Pingmon-API-Key": key }),
      "Content-Type": "application/json",
    },
    body,
  };
}

/** Asserts the function file's answer, and that Hibiki's server answers the same. */
async function expectAnswer(
  project: Project,
  name: EdgeFunctionName,
  init: RequestInit,
  expected: Answer,
) {
  assert.deepEqual(await project.call(name, init), expected);
  assert.deepEqual(await project.hibiki(name, init), expected);
}

function result(fields: Record<string, unknown> = {}) {
  return {
    monitor_id: SEED_MONITOR,
    checked_at: new Date().toISOString(),
    status_code: 200,
    response_time_ms: 85,
    success: true,
    error_message: null,
    response_body_sample: '{"status":"ok"}',
    worker_id: "aws-tyo1a",
    ...fields,
  };
}

Deno.test("get-monitors-to-check on Supabase answers the seed's curl example with the seed's sample and log line", async () => {
  await using project = await startProject();
  // The seed's curl, its body as written there.
  const init = curl(`{
    "worker_id": "aws-tyo1a"
  }`);
  await expectAnswer(project, "get-monitors-to-check", init, {
    status: 200,
    body: {
      success: true,
      data: {
        worker_id: "aws-tyo1a",
        monitors: [
          {
            monitor_id: "550e8400-e29b-41d4-a716-446655440000",
            name: "API Health Check",
            url: "https://api.example.com/health",
            method: "GET",
            headers: {
              "Authorization": "Bearer xxx",
              "User-Agent": "Pingmon/1.0",
            },
            body: null,
            timeout_seconds: 30,
            expected_status_code: 200,
            expected_body_contains: "ok",
            check_minute: 0,
            check_second: 0,
            check_interval_seconds: 300,
          },
        ],
      },
    },
  });
  await expectAnswer(project, "get-monitors-to-check", curl(`{"worker_id": "gcp-tyo1a"}`), {
    status: 200,
    body: { success: true, data: { worker_id: "gcp-tyo1a", monitors: [] } },
  });
  const log = await project.functions["get-monitors-to-check"].child.stdout.waitFor(
    /\[gcp-tyo1a\] Returned 0 monitors\n/,
  );
  assert.ok(log);
  assert.match(
    project.functions["get-monitors-to-check"].child.stdout.text,
    /^\[aws-tyo1a\] Returned 1 monitors$/m,
  );
  const [seen] = await project.db
    .sql`select last_seen_at from public.workers where id = 'aws-tyo1a'`;
  assert.ok(seen.last_seen_at, "the worker is marked as seen");
});

Deno.test("get-monitors-to-check on Supabase answers the seed's errors word for word", async () => {
  await using project = await startProject();
  const body = JSON.stringify({ worker_id: "aws-tyo1a" });
  const unauthorized = {
    status: 401,
    body: { success: false, error: { code: "UNAUTHORIZED", message: "Invalid API key" } },
  };
  await expectAnswer(project, "get-monitors-to-check", curl(body, null), unauthorized);
  await expectAnswer(project, "get-monitors-to-check", curl(body, "wrong-key"), unauthorized);
  for (const bad of ["{}", `{"worker_id": ""}`, `{"worker_id": 7}`, "not json", ""]) {
    await expectAnswer(project, "get-monitors-to-check", curl(bad), {
      status: 400,
      body: {
        success: false,
        error: { code: "INVALID_REQUEST", message: "worker_id is required" },
      },
    });
  }
  await expectAnswer(project, "get-monitors-to-check", curl(`{"worker_id": "azure-tyo1"}`), {
    status: 403,
    body: { success: false, error: { code: "WORKER_INACTIVE", message: "Worker is not active" } },
  });
  await expectAnswer(project, "get-monitors-to-check", curl(`{"worker_id": "nope-1"}`), {
    status: 404,
    body: { success: false, error: { code: "WORKER_NOT_FOUND", message: "Worker not found" } },
  });
  const get = await fetch(project.functions["get-monitors-to-check"].url);
  assert.deepEqual([get.status, await get.text()], [404, "404 Not Found"]);
});

Deno.test("batch-save-results on Supabase stores the seed's curl example's kind of batch in check_results, with the seed's log line", async () => {
  await using project = await startProject();
  const fn = project.functions["batch-save-results"];
  // The seed's curl verbatim: its checked_at (2025-10-26) is past the run retention, so it is
  // answered and dropped, as Hibiki's server does.
  const seedCurl = curl(`{
    "check_results": [{
      "monitor_id": "550e8400-e29b-41d4-a716-446655440000",
      "checked_at": "2025-10-26T10:00:00.000Z",
      "status_code": 200,
      "response_time_ms": 85,
      "success": true,
      "error_message": null,
      "response_body_sample": "{\\"status\\":\\"ok\\"}",
      "worker_id": "aws-tyo1a"
    }]
  }`);
  await expectAnswer(project, "batch-save-results", seedCurl, {
    status: 200,
    body: { success: true, inserted: 0 },
  });
  assert.ok(
    await fn.child.stderr.waitFor(
      /^\[aws-tyo1a\] Dropped 1 check results: 1 with checked_at in the future or past the run retention$/m,
    ),
    fn.child.stderr.text,
  );

  // The same check made now is stored: a row of check_results, queued to become a run.
  const now = result();
  assert.deepEqual(
    await project.call("batch-save-results", curl(JSON.stringify({ check_results: [now] }))),
    { status: 200, body: { success: true, inserted: 1 } },
  );
  assert.ok(
    await fn.child.stdout.waitFor(
      /^\[aws-tyo1a\] Successfully inserted 1 check results \(monitors: 1\)$/m,
    ),
  );
  const rows = await project.db.sql`select monitor_id::text, checked_at, status_code,
      response_time_ms, success, error_message, response_body_sample, worker_id
    from public.check_results`;
  assert.deepEqual(
    [...rows].map((r) => ({ ...r, checked_at: (r.checked_at as Date).toISOString() })),
    [now],
  );
  const queued = await project.stores.lanes.listDue("results", Date.now() + 1000, 10);
  assert.equal(queued.length, 1);
});

Deno.test("batch-save-results on Supabase answers the seed's errors word for word", async () => {
  await using project = await startProject();
  const one = JSON.stringify({ check_results: [result()] });
  await expectAnswer(project, "batch-save-results", curl(one, null), {
    status: 401,
    body: { error: "Unauthorized" },
  });
  for (const bad of [`{"check_results": []}`, "{}", "not json"]) {
    await expectAnswer(project, "batch-save-results", curl(bad), {
      status: 400,
      body: { error: "check_results must be a non-empty array" },
    });
  }
  await expectAnswer(
    project,
    "batch-save-results",
    curl(JSON.stringify({ check_results: Array.from({ length: 1001 }, () => result()) })),
    { status: 400, body: { error: "Too many results. Maximum 1000 per request." } },
  );
  const missing = { ...result() } as Record<string, unknown>;
  delete missing.success;
  await expectAnswer(
    project,
    "batch-save-results",
    curl(JSON.stringify({ check_results: [missing] })),
    {
      status: 400,
      body: {
        error: "Invalid check_result format. Required: monitor_id, worker_id, success",
        details: "check_results[0]: monitor_id, worker_id and success are required",
      },
    },
  );
  await expectAnswer(
    project,
    "batch-save-results",
    curl(JSON.stringify({ check_results: [result({ worker_id: "azure-tyo1" })] })),
    {
      status: 403,
      body: { success: false, error: { code: "WORKER_INACTIVE", message: "Worker is not active" } },
    },
  );
  await expectAnswer(
    project,
    "batch-save-results",
    curl(JSON.stringify({ check_results: [result({ worker_id: "nope-1" })] })),
    {
      status: 404,
      body: { success: false, error: { code: "WORKER_NOT_FOUND", message: "Worker not found" } },
    },
  );
  assert.equal((await project.db.sql`select id from public.check_results`).length, 0);
});

Deno.test("without its database a function answers the seed's 500s and logs why", async () => {
  const closed = `postgres://postgres@127.0.0.1:${freePort()}/postgres`;
  const body = {
    "get-monitors-to-check": JSON.stringify({ worker_id: "aws-tyo1a" }),
    "batch-save-results": JSON.stringify({ check_results: [result()] }),
  };
  for (
    const [env, why] of [
      [{ SUPABASE_DB_URL: closed }, /ECONNREFUSED|refused/],
      [{ SUPABASE_DB_URL: "" }, /Cannot start \S+: SUPABASE_DB_URL is not set \(Supabase sets it/],
    ] as const
  ) {
    for (const name of NAMES) {
      await using fn = await startFunction(name, { ...env, PINGMON_WORKER_API_KEY: KEY })
        .then((f) => ({ ...f, [Symbol.asyncDispose]: () => f.child[Symbol.asyncDispose]() }));
      const got = await answer(await fetch(fn.url, { method: "POST", ...curl(body[name]) }));
      assert.deepEqual(
        got.body,
        name === "get-monitors-to-check"
          ? {
            success: false,
            error: { code: "INTERNAL_ERROR", message: "Database connection failed" },
          }
          : { error: "Database insert failed", details: (got.body as { details: string }).details },
      );
      assert.equal(got.status, 500);
      assert.ok(await fn.child.stderr.waitFor(new RegExp(`\\[aws-tyo1a\\] ${name} failed:`)));
      assert.match(fn.child.stderr.text, why);
      assert.doesNotMatch(fn.child.stderr.text, new RegExp(KEY), "the worker key is never logged");
    }
  }
});

Deno.test("a worker with the anon key checks through Supabase's gateway and the function files, and its results land in check_results", async () => {
  await using project = await startProject();
  const target = startTarget();
  // Checked by aws-tyo1a every 2 s.
  await project.stores.records.updateJob("default", SEED_MONITOR, (job) => ({
    job: { ...job, url: `${target.url}/health`, schedule: "@every 2s", expect: { status: 200 } },
    firstFireAt: undefined,
  }));
  await using gateway = await startFakeSupabaseGateway({
    functions: Object.fromEntries(NAMES.map((n) => [n, { url: project.functions[n].url }])),
  });
  const dir = await Deno.makeTempDir();
  const worker = spawn([
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "worker.ts",
  ], {
    env: {
      WORKER_ID: "aws-tyo1a",
      SUPABASE_URL: gateway.url,
      SUPABASE_ANON_KEY: gateway.anonKey,
      PINGMON_WORKER_API_KEY: KEY,
      WORKER_DATA_PATH: `${dir}/worker.kv`,
      WORKER_REFRESH_SECONDS: "1",
      WORKER_FLUSH_SECONDS: "1",
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    },
  });
  const stored = async () =>
    Number((await project.db.sql`select count(*)::int as n from public.check_results`)[0].n);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && await stored() < 2) await delay(200);
  worker.process.kill("SIGTERM");
  assert.equal((await worker.exit()).code, 0, worker.stderr.text);
  // Every check the worker made is a row, once (its last send went out as it stopped).
  assert.equal(await stored(), target.hits.length, worker.stdout.text);
  assert.ok(target.hits.length >= 2);
  for (const call of gateway.calls) {
    assert.equal(call.status, 200);
    assert.equal(call.headers.get("authorization"), `Bearer ${gateway.anonKey}`);
  }
  assert.match(
    project.functions["batch-save-results"].child.stdout.text,
    /^\[aws-tyo1a\] Successfully inserted \d+ check results \(monitors: 1\)$/m,
  );
  await target.close();
  await Deno.remove(dir, { recursive: true });
});
