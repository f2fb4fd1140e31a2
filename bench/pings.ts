/**
 * Heartbeat pings (issue 13): `GET /ping/:token` to thousands of heartbeat jobs, each ping
 * written as a run (`recordRun`) before its `OK`, driven over real HTTP by wrk. Pings cycle
 * over the jobs' tokens so no token passes its rate limit (60 at once, then one a second).
 * Target: ≥ 5,000 pings/s with p99 ≤ 20 ms, and every acknowledged ping stored.
 */
import { createApiKey } from "../lib/auth.ts";
import type { JobView } from "../lib/store/types.ts";
import { wrkPath } from "./inbound.ts";
import {
  BENCH_USER,
  cpuSince,
  median,
  openEnv,
  percentile,
  type Scenario,
  threadCpuMs,
} from "./util.ts";
import { runWrk } from "./wrk.ts";

export const pings: Scenario = async ({ quick, log }) => {
  const env = await openEnv("pings");
  const { system } = env;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    system.app.fetch,
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const { key } = await createApiKey(env.stores.records, {
    userId: BENCH_USER,
    name: "bench",
    scopes: ["write:jobs"],
  }, Date.now());
  // Enough tokens that a round-robin at 10,000 pings/s stays inside each token's limit.
  const count = quick ? 2_000 : 5_000;
  const started = performance.now();
  const paths: string[] = [];
  const create = async (i: number) => {
    const created = await system.app.request(`${origin}/api/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        type: "heartbeat",
        name: `backup ${i}`,
        schedule: "0 3 * * *",
        graceSeconds: 600,
      }),
    });
    if (created.status !== 201) {
      throw new Error(`POST /api/jobs answered ${created.status}: ${await created.text()}`);
    }
    const job: JobView = (await created.json()).data;
    paths.push(new URL(job.pingUrl!).pathname);
  };
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => create(i + j)));
  }
  log(`${count} heartbeat jobs created in ${(performance.now() - started).toFixed(0)} ms`);
  // A process reads a token's job once, on its first ping (three reads); measured here is the
  // steady state after that, as in a process that has been up a while.
  const warm = performance.now();
  for (let i = 0; i < paths.length; i += 50) {
    await Promise.all(
      paths.slice(i, i + 50).map(async (path) => {
        const answer = await fetch(`${origin}${path}`);
        if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
        await answer.body?.cancel();
      }),
    );
  }
  log(`first ping of each token (reads its job) in ${(performance.now() - warm).toFixed(0)} ms`);

  const runs: {
    rate: number;
    p50: number;
    p99: number;
    client: string;
    sent: number;
    /** CPU µs per ping by thread ("deno": JavaScript; "sw-0": Deno KV's SQLite writer). */
    cpuUsPerPing?: Record<string, number>;
  }[] = [];
  const wrk = await wrkPath();
  for (const concurrency of quick ? [32] : [16, 32, 64]) {
    const cpu = await threadCpuMs();
    const run = wrk
      ? await withWrk(wrk, origin, paths, concurrency, quick ? 5 : 10)
      : await withWorker(origin, paths, concurrency, quick ? 10_000 : 40_000);
    const used = await cpuSince(cpu);
    const perPing = Object.fromEntries(
      Object.entries(used).filter(([, ms]) => ms >= 50)
        .map(([name, ms]) => [name, Math.round(ms * 1000 / run.sent)]),
    );
    log(
      `${run.client}, concurrency ${concurrency}: ${run.rate.toFixed(0)} pings/s, ` +
        `p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms; ` +
        `CPU µs per ping ${JSON.stringify(perPing)}`,
    );
    runs.push({ ...run, cpuUsPerPing: perPing });
  }
  // Every OK was given after its run was committed: all of them must be stored.
  let stored = 0;
  for await (const entry of env.kv.list({ prefix: ["run", BENCH_USER] }, { batchSize: 1000 })) {
    if ((entry.value as { ping?: unknown }).ping) stored++;
  }
  await server.shutdown();
  await system.stop();
  await env.close();
  const best = runs.reduce((a, b) => (b.rate > a.rate && b.p99 <= 20 ? b : a), runs[0]);
  return {
    metrics: [
      {
        metric: "pings per second",
        value: best.rate,
        unit: "req/s",
        target: { op: ">=", value: 5000 },
      },
      { metric: "ping p99", value: best.p99, unit: "ms", target: { op: "<=", value: 20 } },
      { metric: "ping p50", value: best.p50, unit: "ms" },
      {
        metric: "acknowledged but not stored",
        value: paths.length + runs.reduce((n, r) => n + r.sent, 0) - stored,
        unit: "",
        target: { op: "<=", value: 0 },
      },
      {
        metric: "median rate over concurrencies",
        value: median(runs.map((r) => r.rate)),
        unit: "req/s",
      },
    ],
    details: { jobs: count, runs, storedPings: stored },
  };
};

/** wrk cycling over the ping paths, one request after another on each connection. */
async function withWrk(
  wrk: string,
  origin: string,
  paths: string[],
  connections: number,
  seconds: number,
) {
  return await runWrk(wrk, origin, {
    lua: `local paths = {${paths.map((p) => JSON.stringify(p)).join(",")}}\n` +
      `local i = 0\n` +
      `request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n`,
    connections,
    seconds,
  });
}

async function withWorker(origin: string, paths: string[], concurrency: number, total: number) {
  const worker = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
  const result = await new Promise<
    { latencies: number[]; elapsedMs: number; statuses: Record<string, number> }
  >((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.postMessage({
      url: origin,
      urls: paths.map((p) => `${origin}${p}`),
      method: "GET",
      headers: {},
      bodies: [],
      total,
      concurrency,
    });
  });
  worker.terminate();
  if (Object.keys(result.statuses).some((s) => s !== "200")) {
    throw new Error(`pings answered ${JSON.stringify(result.statuses)}`);
  }
  return {
    rate: total / (result.elapsedMs / 1000),
    p50: percentile(result.latencies, 50)!,
    p99: percentile(result.latencies, 99)!,
    client: "worker thread",
    sent: total,
  };
}
