/**
 * One Hibiki server and three probe worker processes on loopback: every monitor is checked
 * by each worker at its offsets, results arrive as runs, an inactive worker gets 403, and a
 * server stopped for 30 s and restarted loses no result.
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
  const monitors = [];
  for (const name of ["alpha", "beta"]) {
    const created = await api("POST", "/api/jobs", {
      name,
      url: `${target.url}/${name}`,
      schedule: "@every 6s",
      local: false,
      workers: WORKERS.map((workerId) => ({ workerId })),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    monitors.push(created.body.data);
  }
  const workers = WORKERS.map((id) =>
    spawn("worker.ts", {
      WORKER_ID: id,
      SUPABASE_URL: base,
      PINGMON_WORKER_API_KEY: WORKER_KEY,
      WORKER_DATA_PATH: `${dir}/${id}.kv`,
      WORKER_REFRESH_SECONDS: "1",
      WORKER_FLUSH_SECONDS: "1",
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    })
  );

  // Every worker checks every monitor, each at its own offset within the 6 s interval.
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
          Math.floor(hit.at / 1000) % 6,
          offset % 6,
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

  // The server goes away for 30 s; the workers keep checking and keep their results.
  server.kill("SIGTERM");
  await server.status;
  const hitsBefore = target.hits.length;
  await delay(30_000);
  assert.ok(target.hits.length > hitsBefore, "workers kept checking while the server was down");
  server = spawn("main.ts", serverEnv);
  await waitFor("the server again", async () => (await fetch(`${base}/healthz`)).ok);
  await delay(3000);
  for (const worker of workers.slice(0, 2)) worker.kill("SIGTERM");
  await Promise.all(workers.slice(0, 2).map((w) => w.status));
  workers[2].kill("SIGTERM");
  await workers[2].status;

  // Every check the active workers made is a run, once.
  for (const monitor of monitors) {
    await waitFor(`the runs of ${monitor.name}`, async () => {
      const runs = (await api("GET", `/api/jobs/${monitor.id}/runs?limit=200`)).body.data;
      return WORKERS.slice(0, 2).every((workerId) => {
        const hits = target.hits.filter((h) =>
          h.path === `/${monitor.name}` && h.userAgent?.includes(workerId)
        ).length;
        return runs.filter((r: { where: string }) =>
          r.where === workerId
        ).length === hits;
      });
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
