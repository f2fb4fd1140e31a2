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
    return entries.map((entry) => unpackStats(entry.value));
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
        op.check(entries[i]).set(
          entries[i].key,
          packStats(change(unpackStats(entries[i].value), job.index)),
        );
      });
      if ((await op.commit()).ok) return;
      if (jobs.length > 1) {
        for (const job of jobs) await this.mergeSome([job], change);
        return;
      }
    }
  }
}
