/**
 * Hibiki processes killed with SIGKILL lose nothing. After a restart, a fire that was in flight
 * is taken again once its lease runs out and recorded exactly once, while fires the dead
 * process had only claimed ahead start on time. With two processes on one database, every
 * fire that was due while its job was enabled ends as a run or a `missed` record, even when
 * the job is disabled through the survivor before it takes the dead one's fires over.
 */
import assert from "node:assert/strict";
import { delay, startTarget } from "./target_server.ts";

const ROOT_KEY = "crash-test-root-key-0123456789";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function startHibiki(kvPath: string, port: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "main.ts"],
    env: {
      PORT: String(port),
      HIBIKI_HOSTNAME: "127.0.0.1",
      HIBIKI_KV_PATH: kvPath,
      HIBIKI_API_KEY: ROOT_KEY,
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
      HIBIKI_MASTER_KEY: "0".repeat(64),
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function waitUntil<T>(what: string, probe: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await delay(100);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function healthy(port: number): Promise<number> {
  return await waitUntil("start", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    await response.body?.cancel();
    return response.ok ? Date.now() : null;
  });
}

/** Waits for the next time `ms` past a whole second (a point where no fire is starting). */
async function pastSecond(ms: number): Promise<void> {
  await delay((ms - (Date.now() % 1000) + 1000) % 1000);
}

async function api(port: number, path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${ROOT_KEY}`, "Content-Type": "application/json" },
  });
}

async function createJob(port: number, fields: Record<string, unknown>) {
  const response = await api(port, "/api/jobs", { method: "POST", body: JSON.stringify(fields) });
  return (await response.json()).data;
}

interface RunRecord {
  scheduledAt: string;
  status: string;
  lateMs: number | null;
}

/** Every run of a job, by fire time (epoch ms). */
async function runsByTime(port: number, jobId: string): Promise<Map<number, RunRecord[]>> {
  const runs: RunRecord[] = (await (await api(port, `/api/jobs/${jobId}/runs?limit=100`)).json())
    .data;
  const byTime = new Map<number, RunRecord[]>();
  for (const run of runs) {
    const at = Date.parse(run.scheduledAt);
    byTime.set(at, [...(byTime.get(at) ?? []), run]);
  }
  return byTime;
}

/** The whole seconds in (from, to]. */
function secondsBetween(from: number, to: number): number[] {
  const out = [];
  for (let at = Math.floor(from / 1000) * 1000 + 1000; at <= to; at += 1000) out.push(at);
  return out;
}

Deno.test("a process killed mid-run and restarted records the run once and starts later fires on time", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  const port = freePort();
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  let requests = 0;
  const target = startTarget(async (request) => {
    if (new URL(request.url).pathname !== "/work") return new Response("tick");
    requests++;
    if (requests === 1) await hung; // the first attempt never answers: its process dies
    return new Response("recovered");
  });

  let hibiki = startHibiki(kvPath, port);
  await healthy(port);
  const job = await createJob(port, {
    name: "crash",
    url: `${target.url}/work`,
    schedule: "0 0 1 1 *",
    timeoutMs: 1000,
  });
  // Fires every second, claimed 90 s ahead; its long deadline would make a lease wait long.
  const ticker = await createJob(port, {
    name: "ticker",
    url: `${target.url}/tick`,
    schedule: "* * * * * *",
    timeoutMs: 300_000,
  });
  const { data: { runId } } = await (await api(port, `/api/jobs/${job.id}/run`, {
    method: "POST",
  })).json();
  await waitUntil("the first request", () => Promise.resolve(requests === 1 ? true : null));

  hibiki.kill("SIGKILL");
  await hibiki.status;
  const killedAt = Date.now();
  hibiki = startHibiki(kvPath, port);
  const restartedAt = await healthy(port);

  const run = await waitUntil("the run after restart", async () => {
    const response = await api(port, `/api/jobs/${job.id}/runs/${runId}`);
    return response.ok ? (await response.json()).data : (await response.body?.cancel(), null);
  });
  assert.equal(run.status, "success");
  assert.equal(run.trigger, "MANUAL");
  assert.equal(run.response.body, "recovered");
  assert.equal(requests, 2);
  const runs = await (await api(port, `/api/jobs/${job.id}/runs`)).json();
  assert.equal(runs.data.length, 1);
  assert.equal((await (await api(port, `/api/jobs/${job.id}`)).json()).data.count, 1);

  // The ticker's fires the dead process had claimed but not started: those due while it was
  // down ran on restart, those due after it on time (not when a run's lease would run out).
  const checkedAt = Date.now() - 1000;
  const ticks = await runsByTime(port, ticker.id);
  const late: number[] = [];
  for (const at of secondsBetween(killedAt + 1000, checkedAt)) {
    const records = ticks.get(at) ?? [];
    assert.equal(records.length, 1, `the fire of ${new Date(at).toISOString()} has one record`);
    if (at > restartedAt) late.push(records[0].lateMs ?? Infinity);
  }
  assert.ok(late.length >= 3, `expected fires after the restart, got ${late.length}`);
  assert.ok(Math.max(...late) < 1000, `fires after the restart started late: ${late} ms`);

  hibiki.kill("SIGTERM");
  await hibiki.status;
  release();
  await target.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fires of a killed process that were due before its job was disabled elsewhere are all recorded", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  const [portA, portB] = [freePort(), freePort()];
  const target = startTarget();
  const a = startHibiki(kvPath, portA);
  const b = startHibiki(kvPath, portB);
  await Promise.all([healthy(portA), healthy(portB)]);
  // Created through A, so A claims its fires for the next 90 s.
  const job = await createJob(portA, {
    name: "every second",
    url: `${target.url}/tick`,
    schedule: "* * * * * *",
    timeoutMs: 1000,
  });
  await waitUntil("a tick", () => Promise.resolve(target.hits.length > 0 || null));
  await pastSecond(300);
  a.kill("SIGKILL");
  await a.status;
  const killedAt = Date.now();
  await delay(killedAt + 1500 - Date.now()); // A's claims of the next second fall due unstarted

  const disabled = await (await api(portB, `/api/jobs/${job.id}`, {
    method: "PATCH",
    body: JSON.stringify({ enabled: false }),
  })).json();
  const disabledAt = Date.parse(disabled.data.updatedAt);
  const due = secondsBetween(Date.parse(job.createdAt), disabledAt);
  const ticks = await waitUntil("a record of every fire due while enabled", async () => {
    const byTime = await runsByTime(portB, job.id);
    return due.every((at) => byTime.has(at)) ? byTime : null;
  }, 20_000);
  for (const [at, records] of ticks) {
    assert.ok(
      at <= disabledAt,
      `no fire after the job was disabled (${new Date(at).toISOString()})`,
    );
    assert.equal(records.length, 1);
    assert.ok(["success", "missed"].includes(records[0].status));
  }

  b.kill("SIGTERM");
  await b.status;
  await target.close();
  await Deno.remove(dir, { recursive: true });
});
