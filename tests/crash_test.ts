/**
 * A Hibiki process killed in the middle of a run loses nothing: after a restart the leased
 * fire is taken again once its lease runs out, and its run is recorded exactly once.
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

async function api(port: number, path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${ROOT_KEY}`, "Content-Type": "application/json" },
  });
}

Deno.test("a process killed mid-run and restarted records the run once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  const port = freePort();
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  let requests = 0;
  const target = startTarget(async () => {
    requests++;
    if (requests === 1) await hung; // the first attempt never answers: its process dies
    return new Response("recovered");
  });

  let hibiki = startHibiki(kvPath, port);
  await waitUntil(
    "start",
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok || null,
  );
  const created = await (await api(port, "/api/jobs", {
    method: "POST",
    body: JSON.stringify({
      name: "crash",
      url: `${target.url}/work`,
      schedule: "0 0 1 1 *",
      timeoutMs: 1000,
    }),
  })).json();
  const jobId = created.data.id;
  const { data: { runId } } = await (await api(port, `/api/jobs/${jobId}/run`, { method: "POST" }))
    .json();
  await waitUntil("the first request", () => Promise.resolve(requests === 1 ? true : null));

  hibiki.kill("SIGKILL");
  await hibiki.status;
  hibiki = startHibiki(kvPath, port);

  const run = await waitUntil("the run after restart", async () => {
    const response = await api(port, `/api/jobs/${jobId}/runs/${runId}`);
    return response.ok ? (await response.json()).data : (await response.body?.cancel(), null);
  });
  assert.equal(run.status, "success");
  assert.equal(run.trigger, "MANUAL");
  assert.equal(run.response.body, "recovered");
  assert.equal(requests, 2);
  const runs = await (await api(port, `/api/jobs/${jobId}/runs`)).json();
  assert.equal(runs.data.length, 1);
  const job = await (await api(port, `/api/jobs/${jobId}`)).json();
  assert.equal(job.data.count, 1);

  hibiki.kill("SIGTERM");
  await hibiki.status;
  release();
  await target.close();
  await Deno.remove(dir, { recursive: true });
});
