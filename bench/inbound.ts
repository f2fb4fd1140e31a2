/**
 * Inbound acknowledgements (issue 5): requests to a verified hook (header secret), each
 * written durably before its 2xx, driven over real HTTP from another thread. Target:
 * ≥ 5,000 requests/s with p99 ≤ 20 ms.
 */
import { createApiKey } from "../lib/auth.ts";
import type { HookView } from "../lib/inbound/types.ts";
import { BENCH_USER, median, openEnv, percentile, type Scenario } from "./util.ts";
import { runWrk } from "./wrk.ts";

export const inbound: Scenario = async ({ quick, log }) => {
  const env = await openEnv("inbound");
  const { system } = env;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    system.app.fetch,
  );
  // The hook is made over the API, with a key of the bench's user written to the store.
  const { key } = await createApiKey(env.stores.records, {
    userId: BENCH_USER,
    name: "bench",
    scopes: ["write:jobs"],
  }, Date.now());
  const created = await system.app.request("/api/hooks", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "bench",
      verification: {
        mode: "header_secret",
        header: "X-Secret",
        secret: "bench-secret-0123456789",
      },
      action: { type: "store" },
    }),
  });
  if (created.status !== 201) {
    throw new Error(`POST /api/hooks answered ${created.status}: ${await created.text()}`);
  }
  const hook: HookView = (await created.json()).data;
  const url = `http://127.0.0.1:${server.addr.port}${hook.path}`;
  const total = quick ? 5_000 : 40_000;
  const bodies = Array.from(
    { length: 100 },
    (_, i) =>
      JSON.stringify({ event: "push", n: i, repository: { name: "hibiki" }, pad: "x".repeat(400) }),
  );

  const runs: { rate: number; p50: number; p99: number; client: string; sent: number }[] = [];
  const wrk = await wrkPath();
  for (const concurrency of quick ? [32] : [16, 32, 64]) {
    const run = wrk
      ? await withWrk(wrk, url, bodies[0], concurrency, quick ? 5 : 10)
      : await withWorker(url, bodies, concurrency, total);
    log(
      `${run.client}, concurrency ${concurrency}: ${run.rate.toFixed(0)} req/s, ` +
        `p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms`,
    );
    runs.push(run);
  }
  // The events were written before each answer: count them to prove nothing was acked unstored.
  let stored = 0;
  for await (const _ of env.kv.list({ prefix: ["inbound_event"] }, { batchSize: 1000 })) stored++;
  await server.shutdown();
  await system.stop();
  await env.close();
  const best = runs.reduce((a, b) => (b.rate > a.rate && b.p99 <= 20 ? b : a), runs[0]);
  return {
    metrics: [
      {
        metric: "acks per second",
        value: best.rate,
        unit: "req/s",
        target: { op: ">=", value: 5000 },
      },
      { metric: "ack p99", value: best.p99, unit: "ms", target: { op: "<=", value: 20 } },
      { metric: "ack p50", value: best.p50, unit: "ms" },
      {
        // Every 200 was given after its event was committed: all of them must be stored.
        metric: "acknowledged but not stored",
        value: runs.reduce((n, r) => n + r.sent, 0) - stored,
        unit: "",
        target: { op: "<=", value: 0 },
      },
      {
        metric: "median rate over concurrencies",
        value: median(runs.map((r) => r.rate)),
        unit: "req/s",
      },
    ],
    details: { runs, storedEvents: stored },
  };
};

/**
 * wrk (Debian's package) when installed: a C client costs the server far less of this
 * 2-core machine's CPU than a JavaScript one, so the figure is the server's, as it would be
 * with the senders elsewhere. Without it, a load generator in a worker thread stands in.
 */
export async function wrkPath(): Promise<string | null> {
  try {
    const out = await new Deno.Command("which", { args: ["wrk"], stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

async function withWrk(
  wrk: string,
  url: string,
  body: string,
  connections: number,
  seconds: number,
) {
  return await runWrk(wrk, url, {
    lua: `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n` +
      `wrk.headers["Content-Type"] = "application/json"\n` +
      `wrk.headers["X-Secret"] = "bench-secret-0123456789"\n`,
    connections,
    seconds,
  });
}

async function withWorker(url: string, bodies: string[], concurrency: number, total: number) {
  const worker = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
  const result = await new Promise<{ latencies: number[]; elapsedMs: number }>((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.postMessage({
      url,
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Secret": "bench-secret-0123456789" },
      bodies,
      total,
      concurrency,
    });
  });
  worker.terminate();
  return {
    rate: total / (result.elapsedMs / 1000),
    p50: percentile(result.latencies, 50)!,
    p99: percentile(result.latencies, 99)!,
    client: "worker thread",
    sent: total,
  };
}
