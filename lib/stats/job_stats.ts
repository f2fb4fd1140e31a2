/**
 * Rolling 24-hour statistics per job (runs, success rate, p95 latency and lateness) for the
 * dashboard, without reading runs: finished runs are tallied in memory and merged every minute
 * into one small record per job (hourly buckets with fixed latency histograms), with
 * compare-and-set so several processes can merge into it.
 * A minute keeps these writes a small share of the store's work: each job's record (a day's is
 * ~350 bytes packed in Deno KV, lib/store/kv/stats_codec.ts; 2–3 KB as JSON in Postgres) is
 * rewritten at most once a minute, however often it runs. Every half minute, as before, it was
 * 0.67 records a check for monitors `@every 20s` (bench `monitors`). A crash loses at most a
 * minute of the tallies; the runs themselves are never at risk, they are written first.
 */
import type { Clock } from "../clock.ts";
import type { JobStatsStore } from "../store/stats.ts";
import type { HourStats, JobStatsRecord } from "../store/types.ts";

/** Upper bounds (ms) of the histogram buckets; the last one is open. */
export const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
const HOUR_MS = 3_600_000;
const HOURS_KEPT = 25;
const FLUSH_EVERY_MS = 60_000;
const FLUSH_GROUP = 40;

export interface JobStatsSummary {
  runs: number;
  /** 0–1; null without runs. */
  successRate: number | null;
  /** Upper bound of the bucket holding the 95th percentile; null without data. */
  p95LatencyMs: number | null;
  p95LateMs: number | null;
}

export class JobStats {
  /**
   * Tallies since the last flush, by job; a job's hours are an array (one entry, two across an
   * hour's turn), not a map: 10,000 small maps were 3 MB of live heap.
   */
  private pending = new Map<string, { userId: string; jobId: string; hours: HourStats[] }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly store: JobStatsStore, private readonly clock: Clock) {}

  observe(
    userId: string,
    jobId: string,
    sample: { at: number; ok: boolean; latencyMs: number | null; lateMs: number | null },
  ): void {
    const key = `${userId}\u0000${jobId}`;
    let job = this.pending.get(key);
    if (!job) this.pending.set(key, job = { userId, jobId, hours: [] });
    const h = Math.floor(sample.at / HOUR_MS);
    let hour = job.hours.find((entry) => entry.h === h);
    if (!hour) job.hours.push(hour = emptyHour(h));
    hour.n++;
    if (sample.ok) hour.ok++;
    if (sample.latencyMs !== null) hour.latency[bucketOf(sample.latencyMs)]++;
    if (sample.lateMs !== null) hour.late[bucketOf(sample.lateMs)]++;
  }

  start(): void {
    const loop = () => {
      this.timer = setTimeout(async () => {
        await this.flush().catch((e) => console.error(`Cannot save job statistics: ${e.message}`));
        if (this.timer !== null) loop();
      }, FLUSH_EVERY_MS);
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Merges every tally observed before this call into the store. */
  async flush(): Promise<void> {
    // A flush under way took only what came before it: wait for it, then take the rest.
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = (async () => {
      try {
        for (let i = 0; i < batch.length; i += FLUSH_GROUP) {
          await this.merge(batch.slice(i, i + FLUSH_GROUP));
        }
      } finally {
        this.flushing = null;
      }
    })();
    await this.flushing;
  }

  /**
   * Summaries of the last 24 hours for the given jobs: what is stored, plus what this process
   * tallied since its last flush, so a page shows a run's figures as soon as it shows the run.
   * (Another process's tallies appear with its next flush; those of a flush under way are
   * missed for the moment it takes.)
   */
  async summaries(userId: string, jobIds: string[]): Promise<Map<string, JobStatsSummary>> {
    const records = await this.store.get(userId, jobIds);
    const since = Math.floor(this.clock.now() / HOUR_MS) - 23;
    const out = new Map<string, JobStatsSummary>();
    records.forEach((record, i) => {
      const local = this.pending.get(`${userId}\u0000${jobIds[i]}`);
      const all = local ? merged(record, local.hours).hours : record?.hours ?? [];
      const hours = all.filter((h) => h.h >= since);
      out.set(jobIds[i], summarize(hours));
    });
    return out;
  }

  private async merge(
    jobs: { userId: string; jobId: string; hours: HourStats[] }[],
  ): Promise<void> {
    await this.store.merge(jobs, (current, i) => merged(current, jobs[i].hours));
  }
}

function emptyHour(h: number): HourStats {
  return {
    h,
    n: 0,
    ok: 0,
    latency: new Array(BUCKETS_MS.length + 1).fill(0),
    late: new Array(BUCKETS_MS.length + 1).fill(0),
  };
}

function copyOfHour(hour: HourStats): HourStats {
  return { ...hour, latency: hour.latency.slice(), late: hour.late.slice() };
}

function bucketOf(ms: number): number {
  let i = 0;
  while (i < BUCKETS_MS.length && ms > BUCKETS_MS[i]) i++;
  return i;
}

/**
 * `record` with `add` tallied in, leaving `record` as it is. Only the hours `add` changes are
 * copied: a record of 25 hours cloned whole took 70 µs at each merge of each job, more than its
 * reading and writing together.
 */
function merged(record: JobStatsRecord | null, add: HourStats[]): JobStatsRecord {
  const hours = new Map((record?.hours ?? []).map((h) => [h.h, h]));
  for (const extra of add) {
    const h = extra.h;
    const stored = hours.get(h);
    const hour = stored ? copyOfHour(stored) : emptyHour(h);
    hour.n += extra.n;
    hour.ok += extra.ok;
    extra.latency.forEach((n, i) => (hour.latency[i] += n));
    extra.late.forEach((n, i) => (hour.late[i] += n));
    hours.set(h, hour);
  }
  return { hours: [...hours.values()].sort((a, b) => a.h - b.h).slice(-HOURS_KEPT) };
}

export function summarize(hours: HourStats[]): JobStatsSummary {
  const runs = hours.reduce((s, h) => s + h.n, 0);
  const ok = hours.reduce((s, h) => s + h.ok, 0);
  return {
    runs,
    successRate: runs === 0 ? null : ok / runs,
    p95LatencyMs: percentile(hours.map((h) => h.latency), 0.95),
    p95LateMs: percentile(hours.map((h) => h.late), 0.95),
  };
}

function percentile(histograms: number[][], q: number): number | null {
  const totals = new Array(BUCKETS_MS.length + 1).fill(0);
  for (const hist of histograms) hist.forEach((n, i) => (totals[i] += n));
  const count = totals.reduce((s, n) => s + n, 0);
  if (count === 0) return null;
  let seen = 0;
  for (let i = 0; i < totals.length; i++) {
    seen += totals[i];
    if (seen >= q * count) return i < BUCKETS_MS.length ? BUCKETS_MS[i] : Infinity;
  }
  return null;
}
