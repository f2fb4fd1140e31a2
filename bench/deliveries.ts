/**
 * Signed webhook deliveries (issue 3) to a healthy local receiver in another thread:
 * - throughput: 20,000 deliveries queued at once, sent and recorded (target ≥ 2,000/s);
 * - latency: jobs firing every second with webhooks, from run finished to delivery received
 *   (target p99 ≤ 250 ms).
 */
import { systemClock } from "../lib/clock.ts";
import { SecretBox } from "../lib/crypto.ts";
import { Metrics } from "../lib/metrics.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import type { Delivery } from "../lib/store/types.ts";
import { createWebhooks } from "../lib/webhooks/feature.ts";
import type { WebhookService } from "../lib/webhooks/webhooks.ts";
import {
  BENCH_USER,
  type BenchEnv,
  cpuSince,
  createJobs,
  firstFireFrom,
  makeJob,
  openEnv,
  percentile,
  type Scenario,
  sleep,
  startTarget,
  threadCpuMs,
} from "./util.ts";

interface Receiver {
  port: number;
  counts: () => Promise<{ total: number; distinct: number }>;
  /** Delivery id → when it first arrived (epoch ms). */
  arrivals: () => Promise<Record<string, number>>;
  reset: () => Promise<void>;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const worker = new Worker(new URL("./receiver_worker.ts", import.meta.url), { type: "module" });
  const waiters: ((d: Record<string, unknown>) => void)[] = [];
  let onReady!: (port: number) => void;
  const ready = new Promise<number>((r) => (onReady = r));
  worker.onmessage = (e: MessageEvent<Record<string, unknown>>) => {
    if (e.data.type === "ready") onReady(e.data.port as number);
    else waiters.shift()?.(e.data);
  };
  const ask = (type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      waiters.push(resolve);
      worker.postMessage({ type });
    });
  return {
    port: await ready,
    counts: async () => (await ask("counts")) as never,
    arrivals: async () => (await ask("arrivals")).arrivals as never,
    reset: async () => void (await ask("reset")),
    close: async () => {
      await ask("close");
      worker.terminate();
    },
  };
}

/**
 * The webhook service beside `env`'s system, for set-up: built by the feature's factory over
 * the same KV and master key, so the system opens the secrets it seals. Its lane is never
 * started; the system's sends what this queues.
 */
function webhookService(env: BenchEnv): WebhookService {
  return createWebhooks({
    store: env.stores.records,
    webhooks: env.stores.webhooks,
    lanes: env.stores.lanes,
    box: new SecretBox(env.masterKey),
    clock: systemClock,
    metrics: new Metrics(),
    config: env.config,
  }).service;
}

/** A job's stored deliveries, read through the contract (either store). */
async function storedDeliveries(env: BenchEnv, jobId: string): Promise<Delivery[]> {
  const all: Delivery[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.stores.webhooks.listDeliveries(BENCH_USER, jobId, {
      cursor,
      limit: 500,
    });
    all.push(...page.values);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return all;
}

/** Stored deliveries of the jobs that succeeded. */
async function succeeded(env: BenchEnv, jobIds: string[]): Promise<number> {
  let n = 0;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; i < jobIds.length; i += 8) {
      for (const d of await storedDeliveries(env, jobIds[i])) if (d.state === "succeeded") n++;
    }
  }));
  return n;
}

export const deliveries: Scenario = async ({ quick, log }) => {
  const receiver = await startReceiver();
  const endpoint = `http://127.0.0.1:${receiver.port}/hook`;

  // Throughput: deliveries queued up front, then the delivery queue drains them.
  const env = await openEnv("deliveries");
  const { system } = env;
  const jobCount = 200;
  const perJob = quick ? 25 : 100;
  const total = jobCount * perJob;
  const jobs = Array.from({ length: jobCount }, () => {
    const id = crypto.randomUUID();
    return { job: makeJob(id, "0 0 1 1 *", endpoint), firstFireAt: null };
  });
  await createJobs(env.stores.records, jobs);
  const webhooks = webhookService(env);
  for (const { job } of jobs) {
    await webhooks.create(BENCH_USER, { jobId: job.id, endpoint });
  }
  const now = Date.now();
  const run = (jobId: string, i: number) => ({
    id: `${now + i}-local`,
    jobId,
    userId: BENCH_USER,
    where: "local",
    trigger: "AUTO" as const,
    status: "success" as const,
    code: 200,
    scheduledAt: new Date(now).toISOString(),
    startedAt: new Date(now).toISOString(),
    finishedAt: new Date(now).toISOString(),
    durationMs: 3,
    lateMs: 1,
    response: { headers: { "content-type": "text/plain" }, body: "ok", bodyTruncated: false },
    error: null,
    failure: null,
  });
  // Queued through the store contract (what a run's outbox or a redelivery writes), so the
  // same set-up runs on either store; 64 writes in flight.
  const outbox: Delivery[] = [];
  for (const { job } of jobs) {
    const stored = (await env.stores.records.getJobForRun(BENCH_USER, job.id))!;
    for (let i = 0; i < perJob; i++) {
      outbox.push((await webhooks.outboxFor(run(job.id, i), stored))!.delivery);
    }
  }
  let queued = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (queued < outbox.length) await env.stores.webhooks.queueDelivery(outbox[queued++]);
  }));
  log(`queued ${queued} deliveries`);
  const cpu0 = await threadCpuMs();
  const t0 = performance.now();
  system.lanes.deliveries.start();
  system.lanes.deliveries.wake();
  for (;;) {
    const { distinct } = await receiver.counts();
    if (distinct >= total || performance.now() - t0 > 120_000) break;
    await sleep(50);
  }
  const sentMs = performance.now() - t0;
  // Recorded too. On Deno KV: a delivery's lease goes in the same commit as its result, so no
  // lease and nothing due means all are recorded (a cheap check while the last ones commit).
  // On Postgres: the stored deliveries are counted through the contract until all succeeded.
  const jobIds = jobs.map(({ job }) => job.id);
  const anyLeft = async () => {
    if (env.store === "postgres") return (await succeeded(env, jobIds)) < total;
    for (const prefix of [kvKeys.deliveryLeases(), kvKeys.deliveriesDue()]) {
      for await (const _ of env.kv.list({ prefix }, { limit: 1 })) return true;
    }
    return false;
  };
  while (await anyLeft() && performance.now() - t0 < 150_000) {
    await sleep(env.store === "postgres" ? 100 : 20);
  }
  const recordedMs = performance.now() - t0;
  const cpu = await cpuSince(cpu0);
  const mainUsPerDelivery = ((cpu.deno ?? NaN) * 1000) / total;
  log(`CPU while sending: ${JSON.stringify(cpu)} ms`);
  const recorded = await succeeded(env, jobIds);
  const first = await receiver.counts();
  log(
    `${first.distinct} received in ${(sentMs / 1000).toFixed(2)} s, ${recorded} recorded as ` +
      `delivered in ${(recordedMs / 1000).toFixed(2)} s, ${first.total - first.distinct} repeats`,
  );
  await system.stop();
  await env.close();

  // Latency: real runs, each with a webhook, from run finished to delivery received.
  await receiver.reset();
  const env2 = await openEnv("deliveries-latency");
  const live = quick ? 100 : 300;
  const start = Date.now() + 3000;
  // The jobs' target answers from its own thread, like the receiver (and like the other
  // scenarios' target): a target elsewhere would not take this process's event loop.
  const target = await startTarget();
  const liveJobs = Array.from({ length: live }, () => {
    const id = crypto.randomUUID();
    return {
      job: makeJob(id, "* * * * * *", target.url(id)),
      firstFireAt: firstFireFrom("* * * * * *", id, start),
    };
  });
  await createJobs(env2.stores.records, liveJobs);
  const liveWebhooks = webhookService(env2);
  for (const { job } of liveJobs) {
    await liveWebhooks.create(BENCH_USER, { jobId: job.id, endpoint });
  }
  await env2.system.start();
  await sleep(quick ? 8_000 : 20_000);
  await env2.system.stop();
  await target.close();
  const arrivals = await receiver.arrivals();
  await receiver.close();
  // Arrival minus the run's end, per delivery, read back from the stored deliveries.
  const lags: number[] = [];
  for (const { job } of liveJobs) {
    for (const delivery of await storedDeliveries(env2, job.id)) {
      const arrived = arrivals[delivery.id];
      if (arrived !== undefined) {
        lags.push(arrived - Date.parse(delivery.payload.result.finishedAt));
      }
    }
  }
  await env2.close();
  log(
    `${lags.length} deliveries of live runs; p50 ${percentile(lags, 50)} ms, p99 ${
      percentile(lags, 99)
    } ms`,
  );

  return {
    metrics: [
      {
        metric: "deliveries per second (received)",
        value: total / (sentMs / 1000),
        unit: "/s",
        target: { op: ">=", value: 2000 },
      },
      {
        metric: "deliveries per second (recorded)",
        value: total / (recordedMs / 1000),
        unit: "/s",
      },
      {
        metric: "main-thread CPU per delivery",
        value: mainUsPerDelivery,
        unit: "µs",
      },
      {
        metric: "deliveries recorded as succeeded",
        value: recorded,
        unit: "",
        target: { op: "==", value: total },
      },
      {
        metric: "repeated deliveries",
        value: first.total - first.distinct,
        unit: "",
        target: { op: "==", value: 0 },
      },
      { metric: "run finished → received p50", value: percentile(lags, 50), unit: "ms" },
      {
        metric: "run finished → received p99",
        value: percentile(lags, 99),
        unit: "ms",
        target: { op: "<=", value: 250 },
      },
    ],
    details: { total, sentMs, recordedMs, liveDeliveries: lags.length, threadCpuMs: cpu },
  };
};
