/**
 * alerts (issue 12): 10,000 monitors (2,000 with --quick), of which 1,000 (200) go down in the
 * same second behind one threshold (`failureThreshold` 1, their target refusing connections),
 * each of those telling one of 20 shared webhook channels (50 jobs each; 10 with --quick) on a
 * local receiver in its own thread. Every incident must open, every channel must get its
 * grouped message, and the time from the run that crossed the threshold (its end) to the
 * message naming its job arriving must stay ≤ 1 s at p99. The other 9,000 monitors run
 * `@every 60s` against a healthy target meanwhile (~150 runs a second).
 */
import { systemClock } from "../lib/clock.ts";
import { SecretBox } from "../lib/crypto.ts";
import { ChannelService } from "../lib/alerts/channel_service.ts";
import type { AlertSettings } from "../lib/alerts/types.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import type { Job } from "../lib/store/types.ts";
import {
  BENCH_USER,
  countKeys,
  createJobs,
  firstFireFrom,
  iso,
  listAllRuns,
  makeJob,
  openEnv,
  percentile,
  type Scenario,
  sleep,
  sleepUntil,
  startTarget,
} from "./util.ts";

const CHANNELS = 20;

interface Counts {
  messages: number;
  grouped: number;
  repeats: number;
  jobs: number;
}

async function startReceiver() {
  const worker = new Worker(new URL("./alert_receiver_worker.ts", import.meta.url), {
    type: "module",
  });
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
    counts: async () => (await ask("counts")) as unknown as Counts,
    arrivals: async () => (await ask("arrivals")).arrivals as Record<string, number>,
    close: async () => {
      await ask("close");
      worker.terminate();
    },
  };
}

function alertsTo(channelId: string): AlertSettings {
  return {
    failureThreshold: 1,
    successThreshold: 1,
    degradedLatencyMs: null,
    quorum: null,
    channels: [{ channelId }],
    remindEveryMinutes: null,
  };
}

export const alerts: Scenario = async ({ quick, log }) => {
  const total = quick ? 2_000 : 10_000;
  const failing = total / 10;
  const receiver = await startReceiver();
  const target = await startTarget();
  const env = await openEnv("alerts");
  const { system } = env;
  try {
    const service = new ChannelService({
      channels: env.stores.channels,
      box: new SecretBox(env.masterKey),
      clock: systemClock,
      send: () => Promise.reject(new Error("Cannot send from the set-up service")),
      baseUrl: env.config.publicUrl,
      allowPrivateNetworks: true,
      allowHttp: true,
    });
    const channelIds: string[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const url = `http://127.0.0.1:${receiver.port}/channel/${i}`;
      const created = await service.create(BENCH_USER, {
        name: `bench ${i}`,
        type: "webhook",
        config: { url },
      });
      channelIds.push(created.id);
    }
    // The failing ones go down together at `downAt`; creating the jobs must not overrun it.
    const downAt = Math.ceil((Date.now() + 8_000 + total) / 1000) * 1000;
    const second = new Date(downAt).getUTCSeconds();
    const failSchedule = `${second} * * * * *`;
    // A port nothing listens on: each run fails at once (connection refused).
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`;
    listener.close();
    const jobs: { job: Job; firstFireAt: number | null }[] = [];
    const failingIds = new Set<string>();
    for (let i = 0; i < total; i++) {
      const id = crypto.randomUUID();
      if (i < failing) {
        failingIds.add(id);
        const job = {
          ...makeJob(id, failSchedule, deadUrl),
          alerts: alertsTo(channelIds[i % CHANNELS]),
        };
        jobs.push({ job, firstFireAt: firstFireFrom(failSchedule, id, downAt) });
      } else {
        const job = {
          ...makeJob(id, "@every 60s", target.url(id)),
          alerts: alertsTo(channelIds[0]),
        };
        jobs.push({ job, firstFireAt: firstFireFrom("@every 60s", id, Date.now() + 3_000) });
      }
    }
    const createMs = await createJobs(env.stores.records, jobs);
    log(
      `created ${total} jobs (${failing} to fail at ${iso(downAt)}) in ${createMs.toFixed(0)} ms`,
    );
    if (Date.now() > downAt - 2_000) log("WARNING: creation overran the start");
    await system.start();
    await sleepUntil(downAt);
    const deadline = downAt + 15_000;
    let counts = await receiver.counts();
    while (counts.jobs < failing && Date.now() < deadline) {
      await sleep(100);
      counts = await receiver.counts();
    }
    await sleep(1_000); // anything sent twice would come now
    counts = await receiver.counts();
    await system.stop();
    const arrivals = await receiver.arrivals();
    const lags: number[] = [];
    const seen = new Set<string>();
    for (const run of await listAllRuns(env.kv)) {
      if (!failingIds.has(run.jobId) || run.status !== "failure" || seen.has(run.jobId)) continue;
      seen.add(run.jobId);
      const arrived = arrivals[run.jobId];
      if (arrived !== undefined && run.finishedAt) lags.push(arrived - Date.parse(run.finishedAt));
    }
    const opened = await countKeys(env.kv, kvKeys.incidentsInState(BENCH_USER, "open"));
    const expectedMessages = CHANNELS * Math.ceil(failing / CHANNELS / 90);
    log(
      `${opened} incidents open, ${counts.messages} messages (${counts.grouped} grouped, ` +
        `${counts.repeats} repeats) naming ${counts.jobs} jobs; run end → message p50 ${
          percentile(lags, 50)
        } ms, p99 ${percentile(lags, 99)} ms, max ${Math.max(...lags)} ms`,
    );
    return {
      metrics: [
        {
          metric: "incidents opened",
          value: opened,
          unit: "",
          target: { op: "==", value: failing },
        },
        {
          metric: "jobs told of (in messages received)",
          value: counts.jobs,
          unit: "",
          target: { op: "==", value: failing },
        },
        {
          metric: "channel messages",
          value: counts.messages,
          unit: "",
          target: { op: "==", value: expectedMessages },
        },
        {
          metric: "messages sent twice",
          value: counts.repeats,
          unit: "",
          target: { op: "==", value: 0 },
        },
        {
          metric: "run end → notification p99",
          value: percentile(lags, 99),
          unit: "ms",
          target: { op: "<=", value: 1000 },
        },
        { metric: "run end → notification p50", value: percentile(lags, 50), unit: "ms" },
      ],
      details: {
        monitors: total,
        failing,
        channels: CHANNELS,
        lagsMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: Math.max(...lags) },
        counts,
      },
    };
  } finally {
    await system.stop().catch(() => {});
    await target.close();
    await receiver.close();
    await env.close();
  }
};
