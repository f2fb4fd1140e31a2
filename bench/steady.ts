/**
 * steady: 10,000 jobs `@every 60s` (phases spread by job id, so ~167 fires a second) under the
 * real dispatcher loop for 5 minutes (70 s with --quick), with `scheduler.tick()` at every
 * minute boundary as Deno.cron would call it. Checks lateness, missed fires and duplicates
 * from the stored runs and from the hits at the target server.
 */
import { nextFireTimes, parseSchedule, type Schedule } from "../lib/schedule/schedule.ts";
import {
  cpuSince,
  createJobs,
  duplicateHits,
  duplicateRuns,
  firstFireFrom,
  intervalSlotOf,
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
  threadCpuMs,
} from "./util.ts";

const JOBS = 10_000;
const SCHEDULE = "@every 60s";
/** Runs still in flight at the end of the window get this long to finish. */
const GRACE_MS = 5_000;

export async function steady({ quick, log }: ScenarioOptions): Promise<ScenarioResult> {
  const durationMs = quick ? 70_000 : 300_000;
  const target = await startTarget();
  const env = await openEnv("steady");
  const { system, metrics } = env;
  try {
    // Fires start at `base`, far enough ahead that creating the jobs cannot overrun it.
    const base = Math.ceil((Date.now() + 3_000 + JOBS / 1.5) / 1000) * 1000;
    const end = base + durationMs;
    const schedules = new Map<string, Schedule>();
    const jobs = Array.from({ length: JOBS }, () => {
      const id = crypto.randomUUID();
      schedules.set(id, parseSchedule(SCHEDULE, { key: id }));
      return {
        job: makeJob(id, SCHEDULE, target.url(id)),
        firstFireAt: firstFireFrom(SCHEDULE, id, base),
      };
    });
    const createMs = await createJobs(env.stores.records, jobs);
    log(`created ${JOBS} jobs in ${createMs.toFixed(0)} ms; window ${iso(base)} → ${iso(end)}`);
    if (Date.now() > base - 500) log(`WARNING: creation overran the window start`);

    const lag = lagMonitor();
    const cpu0 = await threadCpuMs();
    const t = performance.now();
    await system.start();
    const startMs = performance.now() - t;
    log(`system.start() (first tick) took ${startMs.toFixed(0)} ms`);
    const ticker = minuteTicker(system, log);
    // Progress once a minute.
    const progress = setInterval(() => {
      log(
        `… ${metrics.runs.success} ok, ${metrics.runs.failure} failed, ` +
          `${metrics.runs.missed} missed, in flight ${system.lanes.fires.active}`,
      );
    }, 60_000);
    await sleepUntil(end + GRACE_MS);
    clearInterval(progress);
    await ticker.stop();
    await system.stop();
    // Main-thread CPU over the whole window (the target server runs in its own thread).
    const cpu = await cpuSince(cpu0);
    const runsRecorded = metrics.runs.success + metrics.runs.failure;
    const lagSamples = lag.stop();
    await sleep(200);

    // ---- Expected fires per job within [base, end)
    let expected = 0;
    const expectedByJob = new Map<string, Set<number>>();
    for (const [id, schedule] of schedules) {
      const times = nextFireTimes(schedule, base - 1, { limit: 1000, beforeMs: end });
      expected += times.length;
      expectedByJob.set(id, new Set(times));
    }

    // ---- Runs recorded
    const runs = await env.allRuns();
    const inWindow = runs.filter((r) => {
      const at = Date.parse(r.scheduledAt);
      return at >= base && at < end;
    });
    const seen = new Set<string>();
    let unexpected = 0;
    let missedRecords = 0;
    let failures = 0;
    const lateness: number[] = [];
    const latenessBySecondOfMinute = new Map<number, number[]>();
    const latenessBy10s = new Map<number, number[]>();
    for (const r of inWindow) {
      const at = Date.parse(r.scheduledAt);
      if (!expectedByJob.get(r.jobId)?.has(at)) unexpected++;
      if (r.status === "missed") {
        missedRecords++;
        continue;
      }
      if (r.status === "failure") failures++;
      seen.add(`${r.jobId}\u0000${at}`);
      if (r.lateMs !== null) {
        lateness.push(r.lateMs);
        const s = new Date(at).getUTCSeconds();
        if (!latenessBySecondOfMinute.has(s)) latenessBySecondOfMinute.set(s, []);
        latenessBySecondOfMinute.get(s)!.push(r.lateMs);
        const bucket = Math.floor(at / 10_000) * 10_000;
        if (!latenessBy10s.has(bucket)) latenessBy10s.set(bucket, []);
        latenessBy10s.get(bucket)!.push(r.lateMs);
      }
    }
    let notRun = 0;
    for (const [id, times] of expectedByJob) {
      for (const at of times) if (!seen.has(`${id}\u0000${at}`)) notRun++;
    }
    const missed = notRun + missedRecords;

    // ---- Target hits: duplicates per (job, fire slot)
    const hits = await target.hits();
    const slotOf = (jobId: string, arrival: number) => {
      const s = schedules.get(jobId);
      return s ? intervalSlotOf(s, arrival) : -1;
    };
    const dupHits = duplicateHits(hits, slotOf, (slot) => slot >= base && slot < end);
    let hitsInWindow = 0;
    const hitLate: number[] = [];
    for (const [jobId, times] of hits) {
      for (const t of times) {
        const slot = slotOf(jobId, t);
        if (slot >= base && slot < end) {
          hitsInWindow++;
          hitLate.push(t - slot);
        }
      }
    }
    const dupRuns = duplicateRuns(inWindow);

    // Lateness by second of the minute: where the minute tick competes with the dispatcher.
    const bySecond = [...latenessBySecondOfMinute.entries()].sort((a, b) => a[0] - b[0]).map((
      [s, v],
    ) => ({ second: s, count: v.length, p99: percentile(v, 99), max: maxOf(v) }));
    const worstSeconds = [...bySecond].sort((a, b) => (b.p99 ?? 0) - (a.p99 ?? 0)).slice(0, 5);
    log(`worst seconds of the minute by p99 lateness: ${JSON.stringify(worstSeconds)}`);
    // p99 per 10 s of the window, to line spikes up with the minute ticks.
    const timeline = [...latenessBy10s.entries()].sort((a, b) => a[0] - b[0]).map(([at, v]) => ({
      from: iso(at),
      p99: percentile(v, 99),
      max: maxOf(v),
    }));

    const lateP99 = percentile(lateness, 99);
    return {
      metrics: [
        { metric: "runs recorded in window", value: seen.size, unit: "" },
        { metric: "fires expected in window", value: expected, unit: "" },
        { metric: "lateness p50", value: percentile(lateness, 50), unit: "ms" },
        { metric: "lateness p99", value: lateP99, unit: "ms", target: { op: "<=", value: 100 } },
        { metric: "lateness max", value: maxOf(lateness), unit: "ms" },
        { metric: "missed fires", value: missed, unit: "", target: { op: "==", value: 0 } },
        {
          metric: "duplicate hits (job+fire)",
          value: dupHits.duplicates,
          unit: "",
          target: { op: "==", value: 0 },
        },
        {
          metric: "duplicate run records",
          value: dupRuns,
          unit: "",
          target: { op: "==", value: 0 },
        },
        { metric: "failed runs", value: failures, unit: "" },
        { metric: "target hits in window", value: hitsInWindow, unit: "" },
        { metric: "hit arrival late p99", value: percentile(hitLate, 99), unit: "ms" },
        {
          metric: "minute tick ms (max)",
          value: maxOf(ticker.ticks.map((t) => t.ms)),
          unit: "ms",
        },
        { metric: "event-loop lag p99", value: percentile(lagSamples.samples, 99), unit: "ms" },
        { metric: "event-loop lag max", value: maxOf(lagSamples.samples), unit: "ms" },
        {
          metric: "main-thread CPU per run",
          value: ((cpu.deno ?? NaN) * 1000) / runsRecorded,
          unit: "µs",
        },
      ],
      details: {
        jobs: JOBS,
        schedule: SCHEDULE,
        durationMs,
        window: { start: iso(base), end: iso(end) },
        createMs,
        startTickMs: startMs,
        threadCpuMs: cpu,
        ticks: ticker.ticks.map((t) => ({ ...t, at: iso(t.at) })),
        lateness: summary(lateness),
        hitArrivalLate: summary(hitLate),
        missed: { notRun, missedRecords },
        unexpectedRuns: unexpected,
        runsOutsideWindow: runs.length - inWindow.length,
        duplicateHitExamples: dupHits.examples,
        latenessBySecondOfMinute: bySecond,
        latenessTimeline: timeline,
        eventLoopLag: summary(lagSamples.samples),
        metrics: metrics.runs,
      },
    };
  } finally {
    await env.close();
    await target.close();
  }
}
