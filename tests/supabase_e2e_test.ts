/**
 * Seed 002 on Supabase, the whole loop: a real Hibiki process (`deno task start`'s flags)
 * with `DATABASE_URL` and the two Supabase function files on the same Postgres database. The
 * worker is registered and the monitor created through Hibiki's API with the bodies of the
 * README's "Seed 002 on Supabase" steps; a probe worker with the anon key gets its monitors
 * from `get-monitors-to-check` and posts its results to `batch-save-results`, both behind a
 * stand-in of Supabase's gateway. The function writes each result to `check_results` and to
 * Hibiki's results lane; Hibiki (no call of its own told it) turns them into runs, once each,
 * and a failing one opens an incident.
 */
import assert from "node:assert/strict";
import { startFakeSupabaseGateway } from "./fakes/supabase_gateway.ts";
import { freshDatabase } from "./postgres_database.ts";
import { startFunction } from "./supabase_function_process.ts";
import { type Child, freePort, REPO, spawn, taskArgs } from "./subprocess.ts";
import { delay, startTarget } from "./target_server.ts";

const ROOT_KEY = "supabase-e2e-root-key-0123456789";
const WORKER_KEY = "supabase-e2e-worker-key-0123456789";
const NAMES = ["get-monitors-to-check", "batch-save-results"];

async function waitUntil<T>(what: string, probe: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await delay(100);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

/** The JSON body of the `POST <path>` step of the README's "Seed 002 on Supabase". */
async function readmeStep(path: string): Promise<Record<string, unknown>> {
  const readme = await Deno.readTextFile(`${REPO}README.md`);
  const section = readme.slice(readme.indexOf("### Seed 002 on Supabase"));
  const step = section.slice(section.search(new RegExp(`-X POST localhost:8000${path} `)));
  const body = step.match(/-d '([^']*)'/);
  assert.ok(body, `no POST ${path} step in the README's Seed 002 on Supabase`);
  return JSON.parse(body[1]);
}

interface RunRecord {
  id: string;
  where: string;
  status: string;
  scheduledAt: string;
  code: number;
}

Deno.test("a worker on Supabase's functions feeds Hibiki on the same database: each result becomes a run once, and a failing one opens an incident", async () => {
  await using db = await freshDatabase();
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ROOT_KEY}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text).data;
  };
  // Two good checks, then the monitored service fails.
  let hits = 0;
  const answers = startTarget(() =>
    ++hits <= 2 ? new Response("ok") : new Response("down", { status: 503 })
  );
  const dir = await Deno.makeTempDir();
  const children: Child[] = [];
  try {
    // Hibiki's own server on the database, without PINGMON_WORKER_API_KEY: the functions
    // take the workers' calls; Hibiki only turns what they accepted into runs.
    const hibiki = spawn(await taskArgs("start"), {
      env: {
        PORT: String(port),
        HIBIKI_HOSTNAME: "127.0.0.1",
        DATABASE_URL: db.url,
        HIBIKI_API_KEY: ROOT_KEY,
        HIBIKI_MASTER_KEY: "5".repeat(64),
        HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
      },
    });
    children.push(hibiki);
    await waitUntil("Hibiki", async () => (await fetch(`${base}/healthz`)).ok || null);

    // The README's steps, the monitor checking the target here every second.
    await api("POST", "/api/workers", await readmeStep("/api/workers"));
    const job = await api<{ id: string }>("POST", "/api/jobs", {
      ...await readmeStep("/api/jobs"),
      url: `${answers.url}/health`,
      schedule: "@every 1s",
      alerts: { failureThreshold: 1 },
    });

    const functions: Record<string, { url: string }> = {};
    for (const name of NAMES) {
      const fn = await startFunction(name, {
        SUPABASE_DB_URL: db.url,
        PINGMON_WORKER_API_KEY: WORKER_KEY,
      });
      children.push(fn.child);
      functions[name] = fn;
    }
    await using gateway = await startFakeSupabaseGateway({ functions });
    const worker = spawn(
      ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "worker.ts"],
      {
        env: {
          WORKER_ID: "aws-tyo1a",
          SUPABASE_URL: gateway.url,
          SUPABASE_ANON_KEY: gateway.anonKey,
          PINGMON_WORKER_API_KEY: WORKER_KEY,
          WORKER_DATA_PATH: `${dir}/worker.kv`,
          WORKER_REFRESH_SECONDS: "1",
          WORKER_FLUSH_SECONDS: "1",
          HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
        },
      },
    );
    children.push(worker);

    // The failing check opens an incident, on results Hibiki only ever saw in the database.
    const [incident] = await waitUntil("an open incident", async () => {
      const open = await api<{ id: string; locations: string[] }[]>(
        "GET",
        `/api/incidents?state=open&jobId=${job.id}`,
      );
      return open.length > 0 ? open : null;
    });
    assert.deepEqual(incident.locations, ["aws-tyo1a"]);
    const state = await api<{ state: string; incidentId: string }>(
      "GET",
      `/api/jobs/${job.id}/state`,
    );
    assert.deepEqual([state.state, state.incidentId], ["down", incident.id]);

    worker.process.kill("SIGTERM");
    assert.equal((await worker.exit()).code, 0, worker.stderr.text);
    const checks = answers.hits.length;

    // The worker's last batch sent once more, as a retry after a lost answer would: the
    // function stores it again in check_results, Hibiki records its run once.
    const [last] = await db.sql`select monitor_id::text, checked_at, status_code,
        response_time_ms, success, error_message, response_body_sample, worker_id
      from public.check_results order by checked_at desc limit 1`;
    const replay = await fetch(`${gateway.url}/functions/v1/batch-save-results`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${gateway.anonKey}`,
        "X-Pingmon-API-Key": WORKER_KEY,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ check_results: [last] }),
    });
    assert.deepEqual(await replay.json(), { success: true, inserted: 1 });

    // Every item the functions queued is taken by Hibiki's per-second drain.
    await waitUntil("the results lane to empty", async () => {
      const [{ n }] = await db.sql`select count(*)::int as n from public.hibiki_lane_items
        where lane = 'results'`;
      return n === 0 || null;
    });
    const stored = await db.sql`select checked_at from public.check_results`;
    assert.equal(stored.length, checks + 1, "each check is a row, the replayed one twice");
    const runs = await api<RunRecord[]>("GET", `/api/jobs/${job.id}/runs?limit=100`);
    assert.equal(runs.length, checks, "one run per check");
    assert.deepEqual(
      runs.map((r) => Date.parse(r.scheduledAt)).sort(),
      [...new Set(stored.map((r) => (r.checked_at as Date).getTime()))].sort(),
    );
    assert.ok(runs.every((r) => r.where === "aws-tyo1a"));
    const byStatus = Map.groupBy(runs, (r) => r.status);
    assert.equal(byStatus.get("success")?.length, 2);
    assert.ok((byStatus.get("failure") ?? []).every((r) => r.code === 503));
    assert.ok(byStatus.get("failure")!.length >= 1);
    assert.ok(gateway.calls.every((c) => c.status === 200 && c.forwarded));
  } catch (error) {
    const logs = children.map((c, i) => `#${i}: ${c.stderr.text}${c.stdout.text}`).join("\n");
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  } finally {
    for (const child of children.reverse()) await child[Symbol.asyncDispose]();
    await answers.close();
    await Deno.remove(dir, { recursive: true });
  }
});
