/**
 * Writes finished runs in Deno KV (`KvStore.recordRun`), local and workers' alike. Each run is committed together with its
 * job's counters, its up/down state, the release of its lease and its follow-ups (the
 * webhook outbox, the alert decide item), in one atomic operation whose first check is "this run does not exist
 * yet": a fire run twice (after a crash) or a worker's batch sent twice is recorded once.
 * Runs that finish close together share a commit (group commit).
 */
import type { Clock } from "../../clock.ts";
import type { LeaseRef } from "../lanes.ts";
import type { Retention, RunCompletion } from "../store.ts";
import type { Run } from "../types.ts";
import { addDecide } from "./alerts.ts";
import { GroupCommitter } from "./group_commit.ts";
import { writeRunState } from "./job_index.ts";
import { kvKeys } from "./keys.ts";
import { writeOutbox } from "./outbox.ts";

/** Pruning happens in steps, once this many runs over the limit have piled up. */
const PRUNE_SLACK = 50;
const PRUNE_BATCH = 90;
/** Adding 2^64 − n to a KvU64 subtracts n: `sum` wraps around on overflow. */
const U64 = 1n << 64n;

export class RunWriter {
  private readonly committer: GroupCommitter;
  /**
   * Runs being written here, by key. Two copies of one run (a worker's batch sent again
   * while the first is being stored) in one shared commit would both pass "does not exist
   * yet" and count twice; so a copy waits for the write before it.
   */
  private readonly writing = new Map<string, Promise<boolean>>();

  constructor(
    private readonly kv: Deno.Kv,
    private readonly clock: Clock,
    private readonly retention: Retention,
  ) {
    this.committer = new GroupCommitter(kv, 60);
  }

  /** Resolves true when the run was written, false when it already existed. */
  async record(completion: RunCompletion): Promise<boolean> {
    const { userId, jobId } = completion.run;
    const id = JSON.stringify([userId, jobId, completion.scheduledAt, completion.suffix]);
    for (let earlier = this.writing.get(id); earlier; earlier = this.writing.get(id)) {
      // Written (or found written) by the earlier copy: this one exists. A failed one: retry.
      if (await earlier.then(() => true, () => false)) return this.exists(completion);
    }
    const write = this.write(completion);
    this.writing.set(id, write);
    try {
      return await write;
    } finally {
      if (this.writing.get(id) === write) this.writing.delete(id);
    }
  }

  private async write(completion: RunCompletion): Promise<boolean> {
    if (await this.committer.commit((op) => this.addTo(op, completion))) {
      this.maybePrune(completion);
      return true;
    }
    return await this.exists(completion);
  }

  /** The run exists: an earlier attempt recorded it. Only the lease is left to drop. */
  private async exists(completion: RunCompletion): Promise<false> {
    if (completion.lease) await this.release(completion.lease);
    return false;
  }

  /** Drops the lease of a run that exists already. */
  private async release(lease: LeaseRef): Promise<void> {
    await this.kv.delete(lease as Deno.KvKey);
  }

  private addTo(op: Deno.AtomicOperation, c: RunCompletion): void {
    const { userId, jobId } = c.run;
    const key = kvKeys.run(userId, jobId, c.scheduledAt, c.suffix);
    op.check({ key, versionstamp: null }).set(key, c.run);
    // A run that counts is kept by `count` alone; any other record adjusts the tally.
    if (!c.counts) op.sum(kvKeys.runsAdjust(userId, jobId), 1n);
    if (c.lease) op.delete(c.lease as Deno.KvKey);
    if (c.newest !== false) writeRunState(op, c.run, c.state ?? null); // the dashboard's filter
    if (c.counts) {
      op.sum(kvKeys.jobCount(userId, jobId), 1n);
      const startedAt = c.run.startedAt ? Date.parse(c.run.startedAt) : c.scheduledAt;
      op.max(kvKeys.jobLast(userId, jobId), BigInt(startedAt));
    }
    if (c.outbox) writeOutbox(op, c.outbox);
    // One set: the state is decided from it, at once by this process or by the alert lane.
    if (c.decide) addDecide(op, c.decide);
    for (const guard of c.guards ?? []) op.check(guard as Deno.AtomicCheck);
  }

  private maybePrune(c: RunCompletion): void {
    const stored = c.runsStored + 1;
    const ageCheckDue = stored % 100 === 0;
    if (stored <= this.retention.count + PRUNE_SLACK && !ageCheckDue) return;
    this.prune(c.run.userId, c.run.jobId).catch((error) =>
      console.error(`Cannot prune runs of job "${c.run.jobId}": ${(error as Error).message}`)
    );
  }

  /** Deletes the oldest runs beyond the retention count or age; returns how many. */
  async prune(userId: string, jobId: string): Promise<number> {
    const [counted, adjust] = await this.kv.getMany<[Deno.KvU64, Deno.KvU64]>([
      kvKeys.jobCount(userId, jobId),
      kvKeys.runsAdjust(userId, jobId),
    ]);
    let count = runsKept(counted.value, adjust.value);
    const cutoff = this.clock.now() - this.retention.maxAgeMs;
    let removed = 0;
    for (;;) {
      const victims: Deno.KvEntry<Run>[] = [];
      for await (
        const entry of this.kv.list<Run>({ prefix: kvKeys.runsOf(userId, jobId) }, {
          limit: PRUNE_BATCH,
        })
      ) {
        const scheduledAt = entry.key[3] as number;
        if (count - victims.length > this.retention.count || scheduledAt < cutoff) {
          victims.push(entry);
        } else {
          break;
        }
      }
      if (victims.length === 0) return removed;
      const op = this.kv.atomic();
      for (const victim of victims) op.check(victim).delete(victim.key);
      op.sum(kvKeys.runsAdjust(userId, jobId), U64 - BigInt(victims.length));
      // A concurrent prune took some of these: stop, the other one carries on.
      if (!(await op.commit()).ok) return removed;
      removed += victims.length;
      count -= victims.length;
    }
  }
}

/** Runs kept for a job: its count plus the signed adjustment (see kvKeys.runsAdjust). */
export function runsKept(count: Deno.KvU64 | null, adjust: Deno.KvU64 | null): number {
  const signed = adjust ? BigInt.asIntN(64, adjust.value) : 0n;
  return Math.max(0, Number((count?.value ?? 0n) + signed));
}
