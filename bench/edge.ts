/**
 * The probe workers' edge API (issue 4), in-process through the app's handler, on either
 * store:
 * - get-monitors-to-check for a worker with 10,000 monitors (target p50 ≤ 100 ms);
 * - batch-save-results with 1000-item batches: results acknowledged per second (target
 *   ≥ 20,000/s) and p99 per batch (target ≤ 200 ms), then how fast the accepted results
 *   become runs of their jobs.
 */
import { makeJob, median, openEnv, percentile, type Scenario, sleep } from "./util.ts";

const KEY = "bench-worker-key-0123456789";
const WORKER = "bench-w1";

export const edge: Scenario = async ({ quick, log }) => {
  const env = await openEnv("edge", { env: { PINGMON_WORKER_API_KEY: KEY } });
  const { system } = env;
  // Set-up writes beside the system through the store contract, as another process on the
  // same store would.
  const stores = env.stores;
  await stores.workers.create({
    id: WORKER,
    name: WORKER,
    is_active: true,
    last_seen_at: null,
    created_at: new Date().toISOString(),
  });
  const monitors = 10_000;
  const ids: string[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < monitors) {
      next++;
      const id = crypto.randomUUID();
      ids.push(id);
      const job = {
        ...makeJob(id, "@every 5m", "https://example.com/health"),
        local: false,
        workers: [{ workerId: WORKER, checkMinute: 1, checkSecond: 40 }],
      };
      await stores.records.createJob(job, null);
    }
  }));
  log(`${monitors} monitors created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const call = async (name: string, body: unknown) => {
    const response = await system.app.request(`/functions/v1/${name}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Pingmon-API-Key": KEY },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) {
      throw new Error(`${name} answered ${response.status}: ${JSON.stringify(json)}`);
    }
    return json;
  };

  const listTimes: number[] = [];
  for (let i = 0; i < (quick ? 5 : 20); i++) {
    const t = performance.now();
    const answer = await call("get-monitors-to-check", { worker_id: WORKER });
    listTimes.push(performance.now() - t);
    if (answer.data.monitors.length !== monitors) throw new Error("wrong monitor count");
  }
  log(`get-monitors-to-check: p50 ${median(listTimes)?.toFixed(1)} ms`);

  // Batches of 1000 results, 4 in flight (workers send concurrently).
  const batches = quick ? 20 : 100;
  const base = Date.now();
  const batchTimes: number[] = [];
  let sent = 0;
  const tb = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (sent < batches) {
      const b = sent++;
      const results = Array.from({ length: 1000 }, (_, i) => ({
        monitor_id: ids[(b * 1000 + i) % ids.length],
        checked_at: new Date(base + b * 1000 + i).toISOString(),
        status_code: 200,
        response_time_ms: 40 + (i % 50),
        success: i % 97 !== 0,
        error_message: i % 97 === 0 ? "Expected status 200, got 503" : null,
        response_body_sample: '{"status":"ok"}',
        worker_id: WORKER,
      }));
      const t = performance.now();
      await call("batch-save-results", { check_results: results });
      batchTimes.push(performance.now() - t);
    }
  }));
  const ackMs = performance.now() - tb;
  const total = batches * 1000;
  log(`${total} results acknowledged in ${(ackMs / 1000).toFixed(2)} s`);

  // Then the accepted chunks become runs.
  const ti = performance.now();
  system.lanes.results.start();
  system.lanes.results.wake();
  let stored = 0;
  for (;;) {
    stored = await env.countRuns();
    if (stored >= total || performance.now() - ti > 300_000) break;
    await sleep(250);
  }
  const ingestMs = performance.now() - ti;
  log(`${stored} runs stored ${(ingestMs / 1000).toFixed(1)} s after the last acknowledgement`);
  await system.stop();
  await env.close();
  return {
    metrics: [
      {
        metric: `get-monitors-to-check p50 (${monitors} monitors)`,
        value: median(listTimes),
        unit: "ms",
        target: { op: "<=", value: 100 },
      },
      {
        metric: "results acknowledged per second",
        value: total / (ackMs / 1000),
        unit: "/s",
        target: { op: ">=", value: 20_000 },
      },
      {
        metric: "batch p99",
        value: percentile(batchTimes, 99),
        unit: "ms",
        target: { op: "<=", value: 200 },
      },
      { metric: "batch p50", value: percentile(batchTimes, 50), unit: "ms" },
      {
        metric: "results stored as runs per second",
        value: stored / (ingestMs / 1000),
        unit: "/s",
      },
      { metric: "runs stored", value: stored, unit: "", target: { op: "==", value: total } },
    ],
    details: { monitors, batches, listTimes, ackMs, ingestMs },
  };
};
