/**
 * Job statistics records in Deno KV (`["jstats", userId, jobId]`, packed: ./stats_codec.ts),
 * deleted with their job.
 * A merge of many jobs is one atomic operation; when another process merged meanwhile, the
 * jobs go one by one so a single conflict costs little.
 */
import type { JobStatsStore } from "../stats.ts";
import type { JobStatsRecord } from "../types.ts";
import { getMany } from "./get_many.ts";
import { kvKeys } from "./keys.ts";
import { packStats, unpackStats } from "./stats_codec.ts";

const ATTEMPTS = 5;

export class KvJobStatsStore implements JobStatsStore {
  constructor(private readonly kv: Deno.Kv) {}

  async get(userId: string, jobIds: string[]): Promise<(JobStatsRecord | null)[]> {
    const entries = await getMany(this.kv, jobIds.map((id) => kvKeys.jobStats(userId, id)));
    return entries.map((entry) => readable(entry) ?? null);
  }

  async merge(
    jobs: readonly { userId: string; jobId: string }[],
    change: (current: JobStatsRecord | null, index: number) => JobStatsRecord,
  ): Promise<void> {
    await this.mergeSome(jobs.map((job, index) => ({ ...job, index })), change);
  }

  private async mergeSome(
    jobs: { userId: string; jobId: string; index: number }[],
    change: (current: JobStatsRecord | null, index: number) => JobStatsRecord,
  ): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS && jobs.length > 0; attempt++) {
      const entries = await getMany(this.kv, jobs.map((j) => kvKeys.jobStats(j.userId, j.jobId)));
      const op = this.kv.atomic();
      jobs.forEach((job, i) => {
        const current = readable(entries[i]);
        // Unreadable (written by a newer Hibiki): left as it is, not overwritten.
        if (current === undefined) return;
        op.check(entries[i]).set(entries[i].key, packStats(change(current, job.index)));
      });
      if ((await op.commit()).ok) return;
      if (jobs.length > 1) {
        for (const job of jobs) await this.mergeSome([job], change);
        return;
      }
    }
  }
}

/**
 * The record of an entry; undefined (and logged) for one this version cannot read, which the
 * dashboard then shows without statistics instead of failing.
 */
function readable(entry: Deno.KvEntryMaybe<unknown>): JobStatsRecord | null | undefined {
  try {
    return unpackStats(entry.value);
  } catch (error) {
    console.error(
      `Cannot read the statistics of ${entry.key.join("/")}: ${(error as Error).message}`,
    );
    return undefined;
  }
}
