/**
 * burst: 5,000 jobs `* * * * *` all firing at one minute boundary M. The system starts 15 s
 * before M (its first tick claims M), and a tick runs at M itself as Deno.cron would call it
 * (claiming M + 60 s while the burst runs). Measures, for the fire at M: time from M to the
 * last run started, start rate, lateness, completeness and duplicates.
 */
import {
  createJobs,
  duplicateHits,
  duplicateRuns,
  iso,
  lagMonitor,
  makeJob,
  maxOf,
  minuteTicker,
  openEnv,
  percentile,
  type ScenarioOptions,
  type ScenarioResult,
  sleep,
  sleepUntil,
  startTarget,
  summary,
} from "./util.ts";

const JOBS = 5_000;
const SCHEDULE = "* * * * *";
const START_BEFORE_MS = 15_000;
const WAIT_AFTER_MS = 30_000;

export async function burst({ log }: ScenarioOptions): Promise<ScenarioResult> {
  const target = await startTarget();
  const env = await openEnv("burst");
  const { system, metrics } = env;
  try {
    const budget = 3_000 + JOBS / 1.5;
    const fireAt = Math.ceil((Date.now() + budget + START_BEFORE_MS) / 60_000) * 60_000;
    const jobs = Array.from({ length: JOBS }, () => {
      const id = crypto.randomUUID();
      return { job: makeJob(id, SCHEDULE, target.url(id)), firstFireAt: fireAt };
    });
    const createMs = await createJobs(env.stores.records, jobs);
    log(`created ${JOBS} jobs in ${createMs.toFixed(0)} ms; fire at ${iso(fireAt)}`);

    await sleepUntil(fireAt - START_BEFORE_MS);
    const t = performance.now();
    await system.start();
    const startTickMs = performance.now() - t;
    log(`system.start() (claims the burst) took ${startTickMs.toFixed(0)} ms`);
    const ticker = minuteTicker(system, log);
    await sleepUntil(fireAt - 1_000);
    const lag = lagMonitor(20);

    const deadline = fireAt + WAIT_AFTER_MS;
    const done = () => metrics.runs.success + metrics.runs.failure >= JOBS;
    while (!done() && Date.now() < deadline) await sleep(50);
    const doneAt = Date.now();
    await ticker.stop();
    await system.stop();
    const lagSamples = lag.stop();
    log(`all recorded ${done() ? "" : "NOT "}by ${doneAt - fireAt} ms after the boundary`);

    const runs = (await env.allRuns()).filter((r) => Date.parse(r.scheduledAt) === fireAt);
    const started = runs.filter((r) => r.startedAt !== null).map((r) => Date.parse(r.startedAt!));
    const finished = runs.filter((r) => r.finishedAt !== null).map((r) =>
      Date.parse(r.finishedAt!)
    );
    const lateness = runs.filter((r) => r.lateMs !== null).map((r) => r.lateMs!);
    const lastStart = maxOf(started);
    const firstStart = started.length ? Math.min(...started) : null;
    const lastFinish = maxOf(finished);
    const toLastStartMs = lastStart === null ? null : lastStart - fireAt;
    const startRate = toLastStartMs ? runs.length / (toLastStartMs / 1000) : null;
    const uniqueJobs = new Set(runs.filter((r) => r.status !== "missed").map((r) => r.jobId));

    const hits = await target.hits();
    const dupHits = duplicateHits(
      hits,
      (_, arrival) => Math.floor(arrival / 60_000) * 60_000,
      (slot) => slot === fireAt,
    );
    const tickAtFire = ticker.ticks.find((x) => Math.abs(x.at - fireAt) < 5_000);

    // Starts per 250 ms after the boundary: the shape of the burst.
    const histogram: number[] = [];
    for (const s of started) {
      const i = Math.max(0, Math.floor((s - fireAt) / 250));
      while (histogram.length <= i) histogram.push(0);
      histogram[i]++;
    }

    return {
      metrics: [
        {
          metric: "boundary → last run started",
          value: toLastStartMs,
          unit: "ms",
          target: { op: "<=", value: 3000 },
        },
        {
          metric: "runs/s (started ÷ boundary→last start)",
          value: startRate,
          unit: "/s",
          target: { op: ">=", value: 2000 },
        },
        {
          metric: "boundary → first run started",
          value: firstStart === null ? null : firstStart - fireAt,
          unit: "ms",
        },
        {
          metric: "boundary → last run finished",
          value: lastFinish === null ? null : lastFinish - fireAt,
          unit: "ms",
        },
        { metric: "lateness p50", value: percentile(lateness, 50), unit: "ms" },
        { metric: "lateness p99", value: percentile(lateness, 99), unit: "ms" },
        { metric: "lateness max", value: maxOf(lateness), unit: "ms" },
        {
          metric: "runs recorded",
          value: uniqueJobs.size,
          unit: "",
          target: { op: "==", value: JOBS },
        },
        {
          metric: "duplicate hits (job+fire)",
          value: dupHits.duplicates,
          unit: "",
          target: { op: "==", value: 0 },
        },
        {
          metric: "duplicate run records",
          value: duplicateRuns(runs),
          unit: "",
          target: { op: "==", value: 0 },
        },
        {
          metric: "failed runs",
          value: runs.filter((r) => r.status !== "success").length,
          unit: "",
        },
        { metric: "tick at boundary ms", value: tickAtFire?.ms ?? null, unit: "ms" },
        { metric: "event-loop lag max", value: maxOf(lagSamples.samples), unit: "ms" },
      ],
      details: {
        jobs: JOBS,
        fireAt: iso(fireAt),
        createMs,
        startTickMs,
        ticks: ticker.ticks.map((x) => ({ ...x, at: iso(x.at) })),
        lateness: summary(lateness),
        startsPer250ms: histogram,
        eventLoopLag: summary(lagSamples.samples),
        duplicateHitExamples: dupHits.examples,
        metrics: metrics.runs,
      },
    };
  } finally {
    await env.close();
    await target.close();
  }
}
