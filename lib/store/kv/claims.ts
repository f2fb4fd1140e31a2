/**
 * The scheduler's claims in Deno KV (`ClaimStore`). A job's due entry is
 * `["due", at, userId, jobId]` (what planning needs, without reading the job) beside its
 * pointer `["job", userId, jobId, "due"]`; a claim checks the entry, deletes it, writes a held
 * lease per fire (`["lease", at, at, …]`: it runs out at the fire's own time), the missed
 * records, and the entry at its next time, in one atomic operation (a batch shares one; when
 * a check fails, each claim is tried again alone). Every lease of a claim carries that
 * operation's versionstamp as `Lease.ahead`: starting a fire is then one compare-and-set with
 * no read.
 */
import { type ClaimStore, type DueJob, type FireClaim, fireShiftMs } from "../claims.ts";
import type { Lease } from "../lanes.ts";
import type { Job } from "../types.ts";
import { kvKeys } from "./keys.ts";

/** The value of a due entry: what the scheduler needs to know about a job without reading it. */
export interface DueEntry {
  schedule: string;
  timezone: string;
  /** Sizes the lease of each fire, so a crashed run is retried soon after its deadline. */
  timeoutMs: number;
  /** Fires come this long after each time the schedule names (a heartbeat job's grace). */
  shiftMs?: number;
}

export function dueEntry(job: Job): DueEntry {
  const entry: DueEntry = {
    schedule: job.schedule,
    timezone: job.timezone,
    timeoutMs: job.timeoutMs,
  };
  const shiftMs = fireShiftMs(job);
  if (shiftMs > 0) entry.shiftMs = shiftMs;
  return entry;
}

export class KvClaimStore implements ClaimStore {
  constructor(private readonly kv: Deno.Kv) {}

  async listDue(before: number, limit: number): Promise<DueJob[]> {
    const out: DueJob[] = [];
    const iter = this.kv.list<DueEntry>(
      { start: kvKeys.dueBefore(), end: [...kvKeys.dueBefore(), before] },
      { limit },
    );
    for await (const entry of iter) out.push(dueJob(entry));
    return out;
  }

  async getDue(userId: string, jobId: string): Promise<DueJob | null> {
    const pointer = await this.kv.get<number | null>(kvKeys.jobDue(userId, jobId));
    if (pointer.value === null) return null;
    const entry = await this.kv.get<DueEntry>(kvKeys.due(pointer.value, userId, jobId));
    return entry.versionstamp === null ? null : dueJob(entry as Deno.KvEntry<DueEntry>);
  }

  async claim(
    claims: readonly FireClaim[],
    wakeAfterMs: readonly number[],
  ): Promise<(Lease[] | null)[]> {
    if (claims.length === 0) return [];
    const all = await this.commit(claims, wakeAfterMs);
    if (all || claims.length === 1) return all ?? [null];
    // A failed check does not say whose: each claim again on its own, the wake-ups going with
    // the first that commits.
    const out: (Lease[] | null)[] = [];
    let wakeups = wakeAfterMs;
    for (const claim of claims) {
      const one = await this.commit([claim], wakeups);
      if (one) wakeups = [];
      out.push(one ? one[0] : null);
    }
    return out;
  }

  /** The claims in one atomic operation: their leases, or null when a check failed. */
  private async commit(
    claims: readonly FireClaim[],
    wakeAfterMs: readonly number[],
  ): Promise<Lease[][] | null> {
    const op = this.kv.atomic();
    for (const { due, fires, fire, missed, nextAt } of claims) {
      const { userId, jobId } = due;
      const key = kvKeys.due(due.at, userId, jobId);
      op.check({ key, versionstamp: due.version }).delete(key);
      for (const at of fires) op.set(heldLeaseKey(at, userId, jobId), fire);
      for (const run of missed) {
        op.set(kvKeys.run(userId, jobId, Date.parse(run.scheduledAt), run.where), run);
      }
      if (missed.length > 0) op.sum(kvKeys.runsAdjust(userId, jobId), BigInt(missed.length));
      op.set(kvKeys.jobDue(userId, jobId), nextAt);
      if (nextAt !== null) {
        const entry: DueEntry = {
          schedule: due.schedule,
          timezone: due.timezone,
          timeoutMs: due.timeoutMs,
        };
        if (due.shiftMs) entry.shiftMs = due.shiftMs;
        op.set(kvKeys.due(nextAt, userId, jobId), entry);
      }
    }
    for (const delay of wakeAfterMs) op.enqueue({ type: "wake" }, { delay });
    const result = await op.commit();
    if (!result.ok) return null;
    // Every lease was written by this commit: its versionstamp is theirs.
    return claims.map(({ due, fires }) =>
      fires.map((at) => new HeldFireLease(at, due.userId, due.jobId, result.versionstamp))
    );
  }
}

/**
 * A lease held ahead, as the claimer keeps it until its fire starts: its key is made when asked
 * for. 10,000 monitors `@every 20s` hold up to 45,000 of them, and a key of six parts for each
 * (two of them boxed numbers) was a sixth of the process's live heap.
 */
class HeldFireLease implements Lease {
  constructor(
    readonly until: number,
    private readonly userId: string,
    private readonly jobId: string,
    readonly ahead: string,
  ) {}

  get ref(): Deno.KvKey {
    return heldLeaseKey(this.until, this.userId, this.jobId);
  }
}

/**
 * The lease of a scheduled fire claimed ahead and not started: it runs out at the fire's own
 * time. Its holder moves it to a run's lease just before starting it; a holder that dies first
 * leaves it to run out on time, and any process then starts the fire.
 */
export function heldLeaseKey(at: number, userId: string, jobId: string): Deno.KvKey {
  return kvKeys.laneLease("fire", at, at, [userId, jobId, "local"]);
}

/**
 * Where a scheduled fire claimed ahead and not started may be: held under its lease, or handed
 * back waiting by a process that stopped. Both are withdrawn when its job's schedule changes.
 */
export function claimedFireKeys(at: number, userId: string, jobId: string): Deno.KvKey[] {
  return [heldLeaseKey(at, userId, jobId), kvKeys.laneItem("fire", at, [userId, jobId, "local"])];
}

function dueJob(entry: Deno.KvEntry<DueEntry>): DueJob {
  const [, at, userId, jobId] = entry.key as [string, number, string, string];
  const { schedule, timezone, timeoutMs, shiftMs } = entry.value;
  const due: DueJob = {
    userId,
    jobId,
    at,
    schedule,
    timezone,
    timeoutMs,
    version: entry.versionstamp,
  };
  if (shiftMs) due.shiftMs = shiftMs;
  return due;
}
