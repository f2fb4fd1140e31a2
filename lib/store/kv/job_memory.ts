/**
 * What a run needs of its job, as this process last read or wrote it, so a check of a job that
 * did not change reads nothing (`KvStore.getJobForRun`). Reading the job's eight keys was about
 * a sixth of a check's CPU with 5,000 monitors `@every 20s` (bench `monitors`): one `getMany`
 * costs the KV writer thread and the main thread about 110 µs together, hit or not.
 *
 * What may change meanwhile is covered in two ways:
 * - The job's configuration, its webhook and the webhook's failing mark: every write of them,
 *   in any process, adds an entry to the change log (`kvKeys.jobChange`) in its own atomic
 *   operation (`logJobChange`). A write in this process forgets the job when it commits;
 *   another process's write is seen at the next read after POLL_MS, which lists the log first.
 *   So a change elsewhere takes effect within POLL_MS, as a change made while a run reads its
 *   job ahead of its second always could.
 * - Its latest results and alert state: remembered with the version this process wrote them
 *   at. A run's commit checks that version, so a change made elsewhere fails it, the run is
 *   written again on what is stored, and the job is forgotten here.
 *
 * The runs-kept count is this process's view: it only decides when to prune, which reads the
 * real one.
 */
import { BoundedCache } from "../../bounded_cache.ts";
import type { JobForRun, RunCompletion } from "../store.ts";
import { kvKeys } from "./keys.ts";

/** How stale another process's change to a job may be when a run uses it. */
export const POLL_MS = 100;
/**
 * How long change-log entries live. A process that has not read the log for longer than this
 * (minus a margin) forgets everything rather than trust a log whose entries have expired.
 */
const LOG_KEEP_MS = 60_000;
/** Entries are read again this far back: a change committed late may carry an earlier time. */
const LOG_OVERLAP_MS = 5_000;
/** Jobs remembered; beyond, the least recently run are read again. */
const LIMIT = 50_000;

export class JobMemory {
  private readonly jobs = new BoundedCache<string, JobForRun>(LIMIT);
  /** When the log was last listed (epoch ms), and the listing under way. */
  private polledAt = -Infinity;
  private polling: Promise<void> | null = null;
  /**
   * Bumped by every forgetting: a read that began before it may have read what was changed,
   * so it is not remembered (`remember`'s `since`).
   */
  private generation = 0;

  /** `now` is wall-clock time, which the log's entries from every process are ordered by. */
  constructor(private readonly kv: Deno.Kv, private readonly now: () => number = Date.now) {}

  /** The generation a read begins in, for `remember`. */
  get current(): number {
    return this.generation;
  }

  /** The job as remembered, after seeing other processes' changes; undefined when unknown. */
  async recall(userId: string, jobId: string): Promise<JobForRun | undefined> {
    await this.poll();
    const known = this.jobs.get(keyOf(userId, jobId));
    return known && { ...known };
  }

  /**
   * Reads the change log if it is due, so that what is remembered stays trusted while no run
   * asks: jobs firing once a minute or less often came back to a memory cleared at each fire
   * (no read for longer than the log keeps its entries), and read their keys again, all at once
   * for a minute's burst (`Store.keepMemory`, every KEEP_MEMORY_MS).
   */
  async keepWarm(): Promise<void> {
    if (this.jobs.size > 0) await this.poll();
  }

  /** Whether recalling the job now would read nothing: it is remembered, and still trusted. */
  knows(userId: string, jobId: string): boolean {
    return this.now() - this.polledAt <= LOG_KEEP_MS - LOG_OVERLAP_MS &&
      this.jobs.has(keyOf(userId, jobId));
  }

  /** Keeps a job as read in generation `since`, unless it was forgotten meanwhile. */
  remember(userId: string, jobId: string, forRun: JobForRun, since: number): void {
    if (since === this.generation) this.jobs.set(keyOf(userId, jobId), forRun);
  }

  /**
   * Commits a change of the job's configuration, webhook or failing mark: logged for the other
   * processes in the same operation, forgotten here once it committed. Resolves whether it did.
   */
  async commitChange(op: Deno.AtomicOperation, userId: string, jobId: string): Promise<boolean> {
    logJobChange(op, userId, jobId);
    const { ok } = await op.commit();
    if (ok) this.forget(userId, jobId);
    return ok;
  }

  forget(userId: string, jobId: string): void {
    this.generation++;
    this.jobs.delete(keyOf(userId, jobId));
  }

  /**
   * Brings a remembered job up to a run this process recorded: its counts, its latest results
   * (the writer remembers those itself) and the alert state its decision wrote. A run whose
   * state was decided elsewhere, or not at once, leaves the state unknown: the job is
   * forgotten.
   */
  recorded(completion: RunCompletion, written: boolean): void {
    const { userId, jobId } = completion.run;
    const key = keyOf(userId, jobId);
    const known = this.jobs.get(key);
    if (!known) return;
    const decided = completion.decided;
    if (!written || (completion.decide && !decided?.applied)) return this.forget(userId, jobId);
    const startedAt = completion.run.startedAt
      ? Date.parse(completion.run.startedAt)
      : completion.scheduledAt;
    this.jobs.set(key, {
      ...known,
      count: known.count + (completion.counts ? 1 : 0),
      lastRunAt: completion.counts ? Math.max(known.lastRunAt ?? 0, startedAt) : known.lastRunAt,
      runsStored: known.runsStored + 1,
      recent: undefined,
      alertState: decided?.applied
        ? { state: decided.decision.next, version: decided.version ?? null }
        : known.alertState,
    });
  }

  private poll(): Promise<void> {
    if (this.now() - this.polledAt < POLL_MS) return Promise.resolve();
    return this.polling ??= this.listChanges().finally(() => this.polling = null);
  }

  private async listChanges(): Promise<void> {
    const startedAt = this.now();
    if (startedAt - this.polledAt > LOG_KEEP_MS - LOG_OVERLAP_MS) {
      // Entries may have expired unseen: nothing remembered can be trusted.
      this.generation++;
      this.jobs.clear();
    } else {
      const from = this.polledAt - LOG_OVERLAP_MS;
      const changes = this.kv.list<true>({
        start: [...kvKeys.jobChanges(), from],
        end: [...kvKeys.jobChanges(), Infinity],
      });
      for await (const { key } of changes) this.forget(key[2] as string, key[3] as string);
    }
    this.polledAt = startedAt;
  }
}

/** Adds a change of the job's configuration, webhook or failing mark to the change log. */
export function logJobChange(op: Deno.AtomicOperation, userId: string, jobId: string): void {
  op.set(kvKeys.jobChange(Date.now(), userId, jobId), true, { expireIn: LOG_KEEP_MS });
}

const memories = new WeakMap<Deno.Kv, JobMemory>();

/**
 * The memory shared by every store over one KV handle (one process, usually); `now` is for
 * tests, taken by the first call for a handle.
 */
export function jobMemoryOf(kv: Deno.Kv, now?: () => number): JobMemory {
  let memory = memories.get(kv);
  if (!memory) memories.set(kv, memory = new JobMemory(kv, now));
  return memory;
}

function keyOf(userId: string, jobId: string): string {
  return `${userId}\u0000${jobId}`;
}
