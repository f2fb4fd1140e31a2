/**
 * tick cost: `scheduler.tick()` wall time over 100,000 stored jobs of which 1,000 are due
 * within the look-ahead (the rest `@every 1d` with their first fire ≥ 2 h away), against a
 * store of 1,000 jobs that are all due. Equal times mean a tick reads only the due part of
 * the index, not every job. The clock is a ManualClock frozen at set-up, and the due state is
 * restored between ticks, so every tick does the same work.
 */
import { ManualClock } from "../lib/clock.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import { dueEntry } from "../lib/store/kv/claims.ts";
import { createFires } from "../lib/scheduler/feature.ts";
import { LOOKAHEAD_MS } from "../lib/scheduler/scheduler.ts";
import {
  BENCH_USER,
  createJobs,
  firstFireFrom,
  makeJob,
  median,
  openEnv,
  type ScenarioOptions,
  type ScenarioResult,
  sleep,
} from "./util.ts";

const SAMPLES = 9;
const SETTLE_MS = 3_000;
const DUE_SCHEDULE = "@every 60s";
const FAR_SCHEDULE = "@every 1d";

interface TickCost {
  total: number;
  due: number;
  createMs: number;
  ticksMs: number[];
  claimed: number;
  jobs: number;
}

async function measure(
  total: number,
  due: number,
  samples: number,
  log: (m: string) => void,
): Promise<TickCost> {
  const now = Date.now();
  const clock = new ManualClock(now);
  const env = await openEnv(`tick-${total}`, { clock });
  const { kv } = env;
  // The scheduling feature alone, as system.ts builds it: its tick is what is measured.
  const { scheduler, lane } = createFires({
    store: env.stores.records,
    lanes: env.stores.lanes,
    claims: env.stores.claims,
    clock,
    metrics: env.metrics,
    config: env.config,
    queueWakeups: false,
  });
  try {
    const url = "http://127.0.0.1:9/";
    const dueJobs = Array.from({ length: due }, () => {
      const id = crypto.randomUUID();
      return {
        job: makeJob(id, DUE_SCHEDULE, url),
        firstFireAt: firstFireFrom(DUE_SCHEDULE, id, now + 1),
      };
    });
    // The far jobs are written and then dropped, so the bench's own heap stays small.
    let createMs = await createJobs(env.stores.records, dueJobs, 64);
    for (let i = 0; i < total - due; i += 10_000) {
      const farJobs = Array.from({ length: Math.min(10_000, total - due - i) }, () => {
        const id = crypto.randomUUID();
        return {
          job: makeJob(id, FAR_SCHEDULE, url),
          firstFireAt: firstFireFrom(FAR_SCHEDULE, id, now + 2 * 3_600_000),
        };
      });
      createMs += await createJobs(env.stores.records, farJobs, 64);
    }
    log(`${total} jobs (${due} due) created in ${(createMs / 1000).toFixed(1)} s`);
    // Let the store settle after the bulk writes (a real tick does not follow 100k creates):
    // flush the dirty pages now so the kernel's write-back does not land inside the ticks.
    await new Deno.Command("sync").output().catch(() => {});
    await sleep(SETTLE_MS);

    let inHorizon = 0;
    const horizon = now + LOOKAHEAD_MS;
    for await (const _ of kv.list({ start: ["due"], end: ["due", horizon] })) inHorizon++;
    if (inHorizon !== due) throw new Error(`expected ${due} due entries, found ${inHorizon}`);

    const ticksMs: number[] = [];
    let claimed = 0;
    let jobs = 0;
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      const report = await scheduler.tick();
      ticksMs.push(performance.now() - t);
      claimed = report.claimed;
      jobs = report.jobs;
      if (report.jobs !== due) throw new Error(`tick handled ${report.jobs} jobs, expected ${due}`);
      await restore(kv, dueJobs);
    }
    log(
      `${total}/${due}: ticks ${ticksMs.map((x) => x.toFixed(0)).join(", ")} ms; ` +
        `${claimed} fires claimed per tick`,
    );
    return { total, due, createMs, ticksMs, claimed, jobs };
  } finally {
    // The ticks hold the fires they claim; the lane must be done with them before the KV
    // closes (else each logs "Cannot finish fire item …: Bad resource ID").
    await lane.stop();
    await env.close();
  }
}

/** Puts the due jobs back as they were before the tick and drops what it wrote. */
async function restore(
  kv: Deno.Kv,
  dueJobs: { job: ReturnType<typeof makeJob>; firstFireAt: number | null }[],
): Promise<void> {
  for (const prefix of [["claim"], kvKeys.fires()]) {
    let keys: Deno.KvKey[] = [];
    for await (const e of kv.list({ prefix })) keys.push(e.key);
    while (keys.length) {
      const op = kv.atomic();
      for (const k of keys.splice(0, 500)) op.delete(k);
      await op.commit();
    }
    keys = [];
  }
  for (let i = 0; i < dueJobs.length; i += 100) {
    const chunk = dueJobs.slice(i, i + 100);
    const pointers: (number | null)[] = [];
    for (let j = 0; j < chunk.length; j += 10) {
      const got = await kv.getMany<(number | null)[]>(
        chunk.slice(j, j + 10).map(({ job }) => kvKeys.jobDue(BENCH_USER, job.id)),
      );
      pointers.push(...got.map((g) => g.value));
    }
    const op = kv.atomic();
    chunk.forEach(({ job, firstFireAt }, k) => {
      const pointer = pointers[k];
      if (pointer !== null) op.delete(kvKeys.due(pointer, BENCH_USER, job.id));
      op.set(kvKeys.due(firstFireAt!, BENCH_USER, job.id), dueEntry(job));
      op.set(kvKeys.jobDue(BENCH_USER, job.id), firstFireAt);
    });
    await op.commit();
  }
}

export async function tickCost({ quick, log }: ScenarioOptions): Promise<ScenarioResult> {
  const bigTotal = quick ? 20_000 : 100_000;
  const small = await measure(1_000, 1_000, SAMPLES, log);
  const big = await measure(bigTotal, 1_000, SAMPLES, log);
  const smallMedian = median(small.ticksMs)!;
  const bigMedian = median(big.ticksMs)!;
  const label = `${bigTotal / 1000}k`;
  return {
    metrics: [
      {
        metric: `tick ms, ${label} jobs / 1k due (median of ${SAMPLES})`,
        value: bigMedian,
        unit: "ms",
      },
      {
        metric: `tick ms, 1k jobs / 1k due (median of ${SAMPLES})`,
        value: smallMedian,
        unit: "ms",
      },
      {
        metric: `ratio ${label}/1k (bench threshold)`,
        value: bigMedian / smallMedian,
        unit: "×",
        target: { op: "<=", value: 2 },
      },
      { metric: `first tick ms, ${label} jobs / 1k due`, value: big.ticksMs[0], unit: "ms" },
      { metric: "first tick ms, 1k jobs / 1k due", value: small.ticksMs[0], unit: "ms" },
      { metric: "fires claimed per tick", value: big.claimed, unit: "" },
    ],
    details: { small, big },
  };
}
