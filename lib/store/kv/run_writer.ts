/**
 * Writes finished runs in Deno KV (`KvStore.recordRun`), local and workers' alike. Each run is
 * committed together with its job's counters, its latest results, the release of its lease and
 * its follow-ups (the webhook outbox, the alert decide item), in one atomic operation whose
 * first check is "this run does not exist yet": a fire run twice (after a crash) or a worker's
 * batch sent twice is recorded once. Runs that finish close together share a commit (group
 * commit).
 *
 * The job's tally (its count, last run and latest results: lib/store/kv/job_tally.ts) is one
 * small value per job that each run rewrites, so the writer needs the value before: the runner
 * hands it in as read with the job (`RunCompletion.recent`, the same read), and this process
 * remembers what it wrote last, so a read is only needed for a job neither knows. Runs of one
 * job in one commit are added together, once; the value is checked against the version it was
 * based on, so a writer elsewhere (another process) is never overwritten: the commit fails, and
 * the run is written again on what is stored now.
 */
import { BoundedCache } from "../../bounded_cache.ts";
import type { Clock } from "../../clock.ts";
import type { LeaseRef } from "../lanes.ts";
import { appendRecent, recentEntry } from "../recent_results.ts";
import type { DecidedAhead } from "../alert_items.ts";
import type { RecentRing, Retention, RunCompletion } from "../store.ts";
import type { Run } from "../types.ts";
import { addDecide, writeDecision } from "./alerts.ts";
import { GroupCommitter } from "./group_commit.ts";
import { jobMemoryOf } from "./job_memory.ts";
import { kvKeys, runsOnly } from "./keys.ts";
import { packTally, unpackTally } from "./job_tally.ts";
import { Linger } from "./linger.ts";
import { writeOutbox } from "./outbox.ts";

/** Pruning happens in steps, once this many runs over the limit have piled up. */
const PRUNE_SLACK = 50;
const PRUNE_BATCH = 90;
/** Adding 2^64 − n to a KvU64 subtracts n: `sum` wraps around on overflow. */
const U64 = 1n << 64n;
/**
 * Checks a shared commit holds, each run bringing its own (`checksOf`): Deno KV refuses an
 * operation of more than 100, and one over it fails the whole group, which then commits run by
 * run. Counted in runs (30), 64 pings at once (five checks each, with their guards) overflowed
 * it and took twice the CPU a ping (bench `pings`: 3,400/s at 64 connections, 5,600/s at 16).
 */
const GROUP_CHECKS = 95;
/** Rounds of "another writer changed the job's results first" before giving up. */
const MAX_ATTEMPTS = 20;

/** The runs one atomic operation adds to one job's tally. */
interface RingAppend {
  userId: string;
  jobId: string;
  /** Versions of the value the completions were read with. */
  read: RecentRing[];
  entries: Uint8Array[];
  /** Of those runs, how many count, and when the newest of them started (epoch ms). */
  counted: number;
  lastRunAt: number;
}

export class RunWriter {
  private readonly committer: GroupCommitter;
  /**
   * Runs being written here, by key. Two copies of one run (a worker's batch sent again
   * while the first is being stored) in one shared commit would both pass "does not exist
   * yet" and count twice; so a copy waits for the write before it.
   */
  private readonly writing = new Map<string, Promise<boolean>>();
  /** Each job's latest results as this process last wrote or read them, with their version. */
  private readonly rings = new BoundedCache<string, RecentRing>();
  /** The results each operation being built appends, by job. */
  private readonly appends = new WeakMap<Deno.AtomicOperation, Map<string, RingAppend>>();
  /**
   * Jobs whose state a decision in the operation being built writes: a second run of the job
   * in it, decided on the same state read, goes with its decide item instead (its decision
   * written too would count one of the two runs only).
   */
  private readonly decisions = new WeakMap<Deno.AtomicOperation, Map<string, DecidedAhead>>();
  /** How long a run nobody waits on may wait to share a commit. */
  private readonly linger = new Linger();

  constructor(
    private readonly kv: Deno.Kv,
    private readonly clock: Clock,
    private readonly retention: Retention,
  ) {
    this.committer = new GroupCommitter(kv, GROUP_CHECKS, (op) => this.finish(op));
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
    const { userId, jobId } = completion.run;
    const ringKey = JSON.stringify([userId, jobId]);
    if (!completion.recent && !this.rings.get(ringKey)) {
      completion = { ...completion, recent: await this.readRing(userId, jobId) };
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const lingerMs = completion.mayWait && attempt === 0 ? this.linger.next() : 0;
      const weight = checksOf(completion);
      if (await this.committer.commit((op) => this.addTo(op, completion), { lingerMs, weight })) {
        this.maybePrune(completion);
        return true;
      }
      // Not written: the run exists, a guard's record changed (the write is refused), or
      // another process changed the job's results first (written again on what is stored).
      const key = kvKeys.run(userId, jobId, completion.scheduledAt, completion.suffix);
      const guards = (completion.guards ?? []) as Deno.AtomicCheck[];
      const [run, ring, ...guarded] = await this.kv.getMany<[Run, Uint8Array, ...unknown[]]>([
        key,
        kvKeys.jobTally(userId, jobId),
        ...guards.map((g) => g.key),
      ]);
      if (run.versionstamp !== null) return await this.exists(completion);
      if (guards.some((g, i) => guarded[i].versionstamp !== g.versionstamp)) return false;
      const stored = { ring: ring.value, version: ring.versionstamp };
      this.remember(ringKey, stored);
      // A decision goes with the run only on its first attempt: what failed may be one of its
      // checks (the state, or an incident acknowledged meanwhile), and its decide item is
      // always right.
      completion = { ...completion, recent: stored, decided: undefined };
    }
    throw new Error(
      `Cannot record a run of job "${jobId}": its latest results kept changing while writing`,
    );
  }

  private async readRing(userId: string, jobId: string): Promise<RecentRing> {
    const entry = await this.kv.get<Uint8Array>(kvKeys.jobTally(userId, jobId));
    return { ring: entry.value, version: entry.versionstamp };
  }

  /** Keeps `ring` unless a newer version is known (versionstamps sort by commit order). */
  private remember(key: string, ring: RecentRing): RecentRing {
    const known = this.rings.get(key);
    if (known && (known.version ?? "") >= (ring.version ?? "")) return known;
    return this.rings.set(key, ring);
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
    this.append(op, c);
    if (c.outbox) writeOutbox(op, c.outbox);
    for (const guard of c.guards ?? []) op.check(guard as Deno.AtomicCheck);
    if (c.decided && this.firstDecisionOf(op, c.decided)) {
      writeDecision(op, c.decided.decision);
    } else if (c.decide) {
      // One set: the state is decided from it, at once by this process or by the alert lane.
      addDecide(op, c.decide);
    }
  }

  /** Whether `ahead` is the first decision in `op` to write its job's state (see `decisions`). */
  private firstDecisionOf(op: Deno.AtomicOperation, ahead: DecidedAhead): boolean {
    let jobs = this.decisions.get(op);
    if (!jobs) this.decisions.set(op, jobs = new Map());
    const key = JSON.stringify([ahead.decision.next.userId, ahead.decision.next.jobId]);
    if (jobs.has(key)) return false;
    jobs.set(key, ahead);
    return true;
  }

  /** Notes the run for its job's latest results, written once per job by `finish`. */
  private append(op: Deno.AtomicOperation, c: RunCompletion): void {
    const { userId, jobId } = c.run;
    let appends = this.appends.get(op);
    if (!appends) this.appends.set(op, appends = new Map());
    const key = JSON.stringify([userId, jobId]);
    let append = appends.get(key);
    if (!append) {
      appends.set(key, append = { userId, jobId, read: [], entries: [], counted: 0, lastRunAt: 0 });
    }
    if (c.recent) append.read.push(c.recent);
    append.entries.push(recentEntry(c.run));
    if (c.counts) {
      append.counted++;
      const startedAt = c.run.startedAt ? Date.parse(c.run.startedAt) : c.scheduledAt;
      append.lastRunAt = Math.max(append.lastRunAt, startedAt);
    }
  }

  /**
   * Writes each job's latest results once, on the newest version known of them, checked; tells
   * what was written to the memory of rings once the operation commits.
   */
  private finish(op: Deno.AtomicOperation): ((versionstamp: string) => void) | void {
    const appends = this.appends.get(op);
    if (!appends) return;
    this.appends.delete(op);
    const decided = this.decisions.get(op);
    this.decisions.delete(op);
    const written: [string, Uint8Array][] = [];
    for (const [key, append] of appends) {
      let base = this.rings.get(key) ?? null;
      for (const read of append.read) {
        if (!base || (read.version ?? "") > (base.version ?? "")) base = read;
      }
      const ringKey = kvKeys.jobTally(append.userId, append.jobId);
      const before = unpackTally(base?.ring);
      const ring = packTally({
        count: before.count + append.counted,
        lastRunAt: Math.max(before.lastRunAt, append.lastRunAt),
        ring: appendRecent(before.ring, append.entries),
      });
      op.check({ key: ringKey, versionstamp: base?.version ?? null }).set(ringKey, ring);
      written.push([key, ring]);
    }
    return (versionstamp) => {
      for (const [key, ring] of written) this.remember(key, { ring, version: versionstamp });
      for (const ahead of decided?.values() ?? []) {
        ahead.applied = true;
        ahead.version = versionstamp;
      }
    };
  }

  private maybePrune(c: RunCompletion): void {
    const stored = c.runsStored + 1;
    const ageCheckDue = stored % 100 === 0;
    if (stored <= this.retention.count + PRUNE_SLACK && !ageCheckDue) return;
    const { userId, jobId } = c.run;
    this.prune(userId, jobId).then(
      // What the memory counts as kept is now too high: read it again on the next run.
      () => jobMemoryOf(this.kv).forget(userId, jobId),
      (error) => console.error(`Cannot prune runs of job "${jobId}": ${(error as Error).message}`),
    );
  }

  /** Deletes the oldest runs beyond the retention count or age; returns how many. */
  async prune(userId: string, jobId: string): Promise<number> {
    const [tally, adjust] = await this.kv.getMany<[Uint8Array, Deno.KvU64]>([
      kvKeys.jobTally(userId, jobId),
      kvKeys.runsAdjust(userId, jobId),
    ]);
    let count = runsKept(unpackTally(tally.value).count, adjust.value);
    const cutoff = this.clock.now() - this.retention.maxAgeMs;
    let removed = 0;
    for (;;) {
      const victims: Deno.KvEntry<Run>[] = [];
      for await (
        const entry of this.kv.list<Run>(runsOnly(userId, jobId), {
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
export function runsKept(count: number, adjust: Deno.KvU64 | null): number {
  const signed = adjust ? Number(BigInt.asIntN(64, adjust.value)) : 0;
  return Math.max(0, count + signed);
}

/** The checks a run's write brings at most (see GROUP_CHECKS). */
function checksOf(c: RunCompletion): number {
  const decision = c.decided?.decision;
  const decided = decision
    ? 1 + (decision.incident ? 1 : 0) + (decision.notifications?.length ?? 0) +
      (decision.cancel?.length ?? 0)
    : 0;
  // The run is new, the job's results are as read, its guards hold.
  return 2 + decided + (c.guards?.length ?? 0);
}
