/**
 * One Hibiki server and three probe worker processes on loopback: every monitor is checked
 * by each worker at its offsets, results arrive as runs, an inactive worker gets 403, and a
 * server stopped and restarted loses no result: the workers keep checking, fail to send, back
 * off, and send what they kept once it is back. The workers run with 1 s refresh, send and
 * retry cap, so the outage takes seconds rather than the minutes of the defaults.
 */
import assert from "node:assert/strict";
import { delay, startTarget } from "./target_server.ts";

const ROOT_KEY = "workers-test-root-key-0123456789";
const WORKER_KEY = "workers-test-worker-key-0123456789";
const WORKERS = ["aws-tyo1a", "gcp-tyo1a", "azure-tyo1"];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function spawn(script: string, env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", script],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A worker process whose log is kept, to see it fail to send while the server is down. */
interface WorkerProcess {
  process: Deno.ChildProcess;
  log: string;
  /** Settles when the process has closed its stdout. */
  closed: Promise<void>;
}

function spawnWorker(env: Record<string, string>): WorkerProcess {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "worker.ts"],
    env,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const worker: WorkerProcess = { process, log: "", closed: Promise.resolve() };
  worker.closed = process.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (worker.log += chunk) }),
  );
  return worker;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await delay(100);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

Deno.test("three workers check every monitor at their offsets and lose nothing while the server is down", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const target = startTarget();
  const serverEnv = {
    PORT: String(port),
    HIBIKI_HOSTNAME: "127.0.0.1",
    HIBIKI_KV_PATH: `${dir}/hibiki.kv`,
    HIBIKI_API_KEY: ROOT_KEY,
    HIBIKI_MASTER_KEY: "1".repeat(64),
    HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    PINGMON_WORKER_API_KEY: WORKER_KEY,
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${ROOT_KEY}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  let server = spawn("main.ts", serverEnv);
  await waitFor("the server", async () => (await fetch(`${base}/healthz`)).ok);

  for (const id of WORKERS) assert.equal((await api("POST", "/api/workers", { id })).status, 201);
  const monitors: {
    id: string;
    name: string;
    workers: { workerId: string; checkMinute: number; checkSecond: number }[];
  }[] = [];
  for (const name of ["alpha", "beta"]) {
    const created = await api("POST", "/api/jobs", {
      name,
      url: `${target.url}/${name}`,
      schedule: "@every 3s",
      local: false,
      workers: WORKERS.map((workerId) => ({ workerId })),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    monitors.push(created.body.data);
  }
  const workers = WORKERS.map((id) =>
    spawnWorker({
      WORKER_ID: id,
      SUPABASE_URL: base,
      PINGMON_WORKER_API_KEY: WORKER_KEY,
      WORKER_DATA_PATH: `${dir}/${id}.kv`,
      WORKER_REFRESH_SECONDS: "1",
      WORKER_FLUSH_SECONDS: "1",
      WORKER_RETRY_MAX_SECONDS: "1",
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    })
  );
  const active = workers.slice(0, 2);
  const hitsBy = (workerId: string, path?: string, since = 0) =>
    target.hits.filter((h) =>
      h.userAgent?.includes(workerId) && (path === undefined || h.path === path) && h.at >= since
    ).length;

  // Every worker checks every monitor, each at its own offset within the 3 s interval.
  await waitFor("a check by every worker of every monitor", () => {
    const seen = new Set(target.hits.map((h) => `${h.path} ${h.userAgent}`));
    return Promise.resolve(seen.size === WORKERS.length * monitors.length);
  });
  for (const monitor of monitors) {
    for (const assignment of monitor.workers) {
      const offset = assignment.checkMinute * 60 + assignment.checkSecond;
      const hits = target.hits.filter((h) =>
        h.path === `/${monitor.name}` && h.userAgent?.includes(assignment.workerId)
      );
      for (const hit of hits) {
        assert.equal(
          Math.floor(hit.at / 1000) % 3,
          offset % 3,
          `${assignment.workerId} off its offset`,
        );
      }
    }
  }

  // An inactive worker is refused with the seed's 403.
  assert.equal((await api("PATCH", "/api/workers/azure-tyo1", { is_active: false })).status, 200);
  const refused = await fetch(`${base}/functions/v1/get-monitors-to-check`, {
    method: "POST",
    headers: { "X-Pingmon-API-Key": WORKER_KEY, "Content-Type": "application/json" },
    body: JSON.stringify({ worker_id: "azure-tyo1" }),
  });
  assert.equal(refused.status, 403);
  assert.deepEqual(await refused.json(), {
    success: false,
    error: { code: "WORKER_INACTIVE", message: "Worker is not active" },
  });

  // The server goes away; the workers keep checking, keep their results and fail to send
  // them, retrying with backoff.
  server.kill("SIGTERM");
  await server.status;
  const downAt = Date.now();
  const hitsBefore = target.hits.length;
  const logBefore = active.map((w) => w.log.length);
  await waitFor(
    "the workers to check and fail to send while the server is down",
    () =>
      Promise.resolve(active.every((w, i) =>
        hitsBy(WORKERS[i], undefined, downAt) >= 2 &&
        w.log.slice(logBefore[i]).includes("Cannot send results (retrying in")
      )),
  );
  assert.ok(target.hits.length > hitsBefore, "workers kept checking while the server was down");

  // Back up, the workers' own retries send what they kept: every check made before the
  // restart becomes a run while the workers are still running.
  server = spawn("main.ts", serverEnv);
  await waitFor("the server again", async () => (await fetch(`${base}/healthz`)).ok);
  const keptHits = monitors.map((m) => WORKERS.map((id) => hitsBy(id, `/${m.name}`)));
  await waitFor("the kept results to be sent by the retries", async () => {
    for (const [m, monitor] of monitors.entries()) {
      const runs = (await api("GET", `/api/jobs/${monitor.id}/runs?limit=200`)).body.data;
      const sent = active.every((_, i) =>
        runs.filter((r: { where: string }) => r.where === WORKERS[i]).length >= keptHits[m][i]
      );
      if (!sent) return false;
    }
    return true;
  });
  for (const worker of active) worker.process.kill("SIGTERM");
  await Promise.all(active.map((w) => w.process.status));
  workers[2].process.kill("SIGTERM");
  await workers[2].process.status;
  await Promise.all(workers.map((w) => w.closed));

  // Every check the active workers made is a run, once.
  for (const monitor of monitors) {
    await waitFor(`the runs of ${monitor.name}`, async () => {
      const runs = (await api("GET", `/api/jobs/${monitor.id}/runs?limit=200`)).body.data;
      return WORKERS.slice(0, 2).every((workerId) =>
        runs.filter((r: { where: string }) => r.where === workerId).length ===
          hitsBy(workerId, `/${monitor.name}`)
      );
    }, 15_000);
    const runs = (await api("GET", `/api/jobs/${monitor.id}/runs?limit=200`)).body.data;
    assert.equal(new Set(runs.map((r: { id: string }) => r.id)).size, runs.length);
    const job = (await api("GET", `/api/jobs/${monitor.id}`)).body.data;
    assert.equal(job.count, runs.length);
  }

  server.kill("SIGTERM");
  await server.status;
  await target.close();
  await Deno.remove(dir, { recursive: true });
});
