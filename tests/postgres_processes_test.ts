/**
 * Two real Hibiki processes (`deno task start`'s flags) on one real Postgres database: each
 * fire runs once between them, and when one is killed with SIGKILL the other takes its work
 * over: the fires it had claimed ahead on time, the run it had in flight once its lease runs
 * out, recorded once.
 */
import assert from "node:assert/strict";
import { freshDatabase } from "./postgres_database.ts";
import { type Child, freePort, spawn, taskArgs } from "./subprocess.ts";
import { delay, startTarget } from "./target_server.ts";

const ROOT_KEY = "postgres-processes-root-key-0123456789";

function startHibiki(databaseUrl: string, port: number, args: string[]): Child {
  return spawn(args, {
    env: {
      PORT: String(port),
      HIBIKI_HOSTNAME: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      HIBIKI_API_KEY: ROOT_KEY,
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
      HIBIKI_MASTER_KEY: "0".repeat(64),
    },
  });
}

async function waitUntil<T>(what: string, probe: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await delay(100);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function healthz(port: number): Promise<{ status: string; checks: Record<string, string> }> {
  return await waitUntil("a healthy start", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    const body = await response.json();
    return response.ok ? body : null;
  });
}

async function api(port: number, path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${ROOT_KEY}`, "Content-Type": "application/json" },
  });
}

async function createJob(port: number, fields: Record<string, unknown>) {
  const response = await api(port, "/api/jobs", { method: "POST", body: JSON.stringify(fields) });
  assert.equal(response.status, 201);
  return (await response.json()).data;
}

interface RunRecord {
  id: string;
  scheduledAt: string;
  status: string;
  lateMs: number | null;
  response: { body: string } | null;
}

async function runsOf(port: number, jobId: string): Promise<RunRecord[]> {
  return (await (await api(port, `/api/jobs/${jobId}/runs?limit=100`)).json()).data;
}

Deno.test("two processes on one Postgres run each fire once and take over a killed one's work", async () => {
  await using db = await freshDatabase();
  const args = await taskArgs("start");
  const [portA, portB] = [freePort(), freePort()];
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  let workRequests = 0;
  const target = startTarget(async (request) => {
    if (new URL(request.url).pathname !== "/work") return new Response("tick");
    workRequests++;
    if (workRequests === 1) await hung; // the first attempt never answers: its process dies
    return new Response("recovered");
  });
  await using a = startHibiki(db.url, portA, args);
  await using b = startHibiki(db.url, portB, args);
  try {
    const [healthA] = await Promise.all([healthz(portA), healthz(portB)]);
    assert.deepEqual(healthA.checks, { store: "ok", queue: "ok", dispatcher: "ok" });

    // Created through A, so A claims its fires ahead; B only drains what falls to it.
    const ticker = await createJob(portA, {
      name: "every second",
      url: `${target.url}/tick`,
      schedule: "* * * * * *",
      timeoutMs: 1000,
    });
    const work = await createJob(portA, {
      name: "hangs once",
      url: `${target.url}/work`,
      schedule: "0 0 1 1 *",
      timeoutMs: 1000,
    });
    await waitUntil("two ticks", () => Promise.resolve(target.hits.length >= 2 || null));
    const { data: { runId } } = await (await api(portA, `/api/jobs/${work.id}/run`, {
      method: "POST",
    })).json();
    await waitUntil("the hung request", () => Promise.resolve(workRequests === 1 || null));
    // Kill A away from a whole second, where no fire is starting.
    await delay((300 - (Date.now() % 1000) + 1000) % 1000);
    a.process.kill("SIGKILL");
    await a.exit();
    const killedAt = Date.now();

    const run = await waitUntil("B to retry the run A had in flight", async () => {
      const response = await api(portB, `/api/jobs/${work.id}/runs/${runId}`);
      return response.ok ? (await response.json()).data : (await response.body?.cancel(), null);
    }, 20_000);
    assert.equal(run.response.body, "recovered");
    assert.equal(workRequests, 2);
    assert.equal((await runsOf(portB, work.id)).length, 1);

    await delay(Math.max(0, killedAt + 3500 - Date.now()));
    const checkedAt = Date.now() - 1000;
    const runs = await runsOf(portB, ticker.id);
    const byTime = new Map<number, RunRecord[]>();
    for (const r of runs) {
      const at = Date.parse(r.scheduledAt);
      byTime.set(at, [...(byTime.get(at) ?? []), r]);
    }
    const from = Math.ceil((Date.parse(ticker.createdAt) + 1) / 1000) * 1000;
    const late: number[] = [];
    for (let at = from; at <= checkedAt; at += 1000) {
      const records = byTime.get(at) ?? [];
      assert.equal(records.length, 1, `the fire of ${new Date(at).toISOString()} has one record`);
      if (at > killedAt + 1000) late.push(records[0].lateMs ?? Infinity);
    }
    // Fires A had claimed ahead start on time in B, not when a run's lease would run out.
    assert.ok(late.length >= 2, `expected fires after the kill, got ${late.length}`);
    assert.ok(Math.max(...late) < 1000, `fires after the kill started late: ${late} ms`);
    assert.equal(target.hits.filter((h) => h.path === "/tick").length, runs.length);
    // Kept in the database itself, not in a KV file beside it.
    const [{ count }] = await db.sql`select count(*)::int as count from public.hibiki_runs
      where job_id = ${work.id}`;
    assert.equal(count, 1);
  } catch (error) {
    const logs =
      `A said: ${a.stderr.text}${a.stdout.text}\nB said: ${b.stderr.text}${b.stdout.text}`;
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  } finally {
    release();
    await target.close();
  }
});
