/**
 * Two real Hibiki processes (`deno task start`'s flags) on one real Postgres database: each
 * fire runs once between them, and when one is killed with SIGKILL the other starts the fires
 * it had claimed ahead on time. A run left in flight is taken over once its lease runs out
 * (its timeout + 10 s): that wait is shown with two systems in this process on one database
 * and a manual clock, so the suite does not sit through it; so is how two schedulers ticking
 * at once split the due jobs between them.
 */
import assert from "node:assert/strict";
import { freshDatabase } from "./postgres_database.ts";
import { expectStatus, okProbe, T0, TestSystem } from "./helpers.ts";
import { type Child, freePort, spawn, taskArgs } from "./subprocess.ts";
import { delay, startTarget } from "./target_server.ts";
import { ManualClock } from "../lib/clock.ts";
import { Metrics } from "../lib/metrics.ts";
import { type HeldFire, Scheduler } from "../lib/scheduler/scheduler.ts";
import { putJob } from "../lib/scheduler/test_support.ts";
import { connectPostgres, createPostgresStores } from "../lib/store/postgres/mod.ts";

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

Deno.test("two processes on one Postgres run each fire once, and the fires a killed one claimed start on time in the other", async () => {
  await using db = await freshDatabase();
  const args = await taskArgs("start");
  const [portA, portB] = [freePort(), freePort()];
  const target = startTarget(() => new Response("tick"));
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
    await waitUntil("two ticks", () => Promise.resolve(target.hits.length >= 2 || null));
    // Kill A away from a whole second, where no fire is starting.
    await delay((300 - (Date.now() % 1000) + 1000) % 1000);
    a.process.kill("SIGKILL");
    await a.exit();
    const killedAt = Date.now();

    await delay(Math.max(0, killedAt + 3400 - Date.now()));
    const checkedAt = Date.now() - 500; // a fire is recorded within milliseconds of its second
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
      where job_id = ${ticker.id}`;
    assert.equal(count, runs.length);
  } catch (error) {
    const logs =
      `A said: ${a.stderr.text}${a.stdout.text}\nB said: ${b.stderr.text}${b.stdout.text}`;
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  } finally {
    await target.close();
  }
});

Deno.test("on Postgres, a run a dead system left in flight is taken over once its lease runs out and recorded once", async () => {
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  let attempts = 0;
  await using a = await TestSystem.start({
    store: "postgres",
    probe: async () => {
      attempts++;
      await hung; // A "dies" with the request in flight; it answers only after B took over
      return { ...okProbe(), body: "stale" };
    },
  });
  await using b = await TestSystem.start({
    store: "postgres",
    sharing: a,
    probe: () => {
      attempts++;
      return { ...okProbe(), body: "recovered" };
    },
  });
  try {
    const job = await a.createJob({ timeoutMs: 1000 });
    const started = await a.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
    expectStatus(started, 202);
    const { runId } = started.body.data;
    await a.system.lanes.fires.drain();
    await waitUntil("A's request", () => Promise.resolve(attempts === 1 || null), 5_000);

    // Within the lease (timeout + 10 s) B leaves the run alone; after it, B takes it over.
    b.clock.set(T0 + 10_999);
    await b.settle();
    assert.equal(attempts, 1);
    b.clock.set(T0 + 11_001);
    await b.settle();
    assert.equal(attempts, 2);
    const run = await b.call<{ response: { body: string } }>(
      "GET",
      `/api/jobs/${job.id}/runs/${runId}`,
    );
    expectStatus(run, 200);
    assert.equal(run.body.data.response.body, "recovered");

    // A comes back to a lease it lost: its late answer is not recorded.
    release();
    await a.settle();
    const runs = await b.call<unknown[]>("GET", `/api/jobs/${job.id}/runs`);
    assert.equal(runs.body.data.length, 1);
    assert.equal(
      (await b.call<{ count: number }>("GET", `/api/jobs/${job.id}`)).body.data.count,
      1,
    );
  } finally {
    release();
  }
});

Deno.test("two schedulers ticking at once on one Postgres split the due jobs and claim each fire once", async () => {
  await using db = await freshDatabase();
  const jobs = 1000;
  const seed = createPostgresStores(db.sql);
  for (let i = 0; i < jobs; i++) await putJob(seed.records, T0, { schedule: "* * * * *" });
  // Each with a pool of its own, as two processes have.
  const other = connectPostgres(db.url, { max: 4 });
  try {
    const clock = new ManualClock(T0);
    const held: HeldFire[][] = [[], []];
    const schedulers = [db.sql, other].map((sql, i) => {
      const stores = createPostgresStores(sql, { clock });
      return new Scheduler({
        claims: stores.claims,
        lanes: stores.lanes,
        clock,
        metrics: new Metrics(),
        catchUpDeadlineMs: 300_000,
        onClaimed: (fires) => held[i].push(...fires),
      });
    });
    // Both pools connected first: a tick must not finish while the other is still connecting.
    await Promise.all([db.sql, other].flatMap((sql) => [1, 2, 3, 4].map(() => sql`select 1`)));
    await Promise.all(schedulers.map((scheduler) => scheduler.tick()));
    const fires = held.flat().map(({ item }) => `${item.id[1]} ${item.at}`);
    assert.equal(fires.length, jobs, "every job's next fire is claimed");
    assert.equal(new Set(fires).size, jobs, "no fire is claimed twice");
    // Neither waits behind the other's claims: each takes a share (claims go 100 at a time;
    // how many each gets depends on the machine, so only that both got some is asserted).
    const shares = held.map((fires) => fires.length);
    assert.ok(shares.every((n) => n > 0), `claims split ${shares.join(" / ")}`);
    assert.deepEqual(await seed.claims.listDue(T0 + 90_000, 10), []);
  } finally {
    await other.end();
  }
});

Deno.test("deno task key:create with DATABASE_URL writes the key to that database", async () => {
  await using db = await freshDatabase();
  await using child = spawn([...await taskArgs("key:create"), "--scopes", "read:jobs"], {
    env: { DATABASE_URL: db.url },
  });
  const { code } = await child.exit(30_000);
  assert.equal(code, 0, child.stderr.text);
  const key = child.stdout.text.trim().split("\n").at(-1)!;
  assert.match(key, /^hk_/);
  const { createPostgresStores } = await import("../lib/store/postgres/mod.ts");
  const keys = await createPostgresStores(db.sql).records.listApiKeys("default", { limit: 10 });
  assert.deepEqual(keys.values.map((k) => [k.name, k.scopes]), [["cli", ["read:jobs"]]]);
  assert.doesNotMatch(child.stdout.text + child.stderr.text, /NotCapable|\n\s+at /);
});
