/**
 * Group commit: writes that arrive while a commit is in flight wait for it and then share
 * the next one. An idle system commits each write at once (no added latency); a busy one
 * folds many writes into each atomic operation, which is what lets one process record
 * thousands of results a second on Deno KV, whose commits cost about the same for one write
 * as for thirty. Each write brings its own checks; if a shared operation fails because one
 * of them did not hold, or because together they exceed Deno KV's limits, every write in it
 * is retried alone, so one conflict or one large write never sinks its neighbours.
 */

/** Keeps a shared operation well inside Deno KV's 100 checks and 1000 mutations. */
const GROUP_MAX = 30;
/** Operations in flight at once: one committing while the next one fills. */
const IN_FLIGHT = 2;

export type Write = (op: Deno.AtomicOperation) => void;

/**
 * Completes an operation once every write of it is in (writes that merge, such as several
 * runs of one job rewriting its one summary value); what it returns is told the versionstamp
 * when the operation commits.
 */
export type Finish = (op: Deno.AtomicOperation) => ((versionstamp: string) => void) | void;

interface Pending {
  write: Write;
  /** Epoch ms (performance clock) until which it may wait for others to share its commit. */
  lingerUntil: number;
  /** Its share of a commit's capacity (`groupMax`): 1, or the checks it brings. */
  weight: number;
  done: (committed: boolean) => void;
  fail: (error: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly groupMax = GROUP_MAX,
    private readonly finish?: Finish,
  ) {}

  /**
   * Resolves true when the write committed, false when one of its checks failed. With
   * `lingerMs`, a write nobody waits on may wait that long for others to share its commit
   * rather than commit alone: checks spread over the second finish a few milliseconds apart,
   * so without it each run took a commit of its own.
   */
  commit(write: Write, options: { lingerMs?: number; weight?: number } = {}): Promise<boolean> {
    return new Promise((done, fail) => {
      const lingerUntil = performance.now() + (options.lingerMs ?? 0);
      this.queue.push({ write, done, fail, lingerUntil, weight: options.weight ?? 1 });
      this.pump();
    });
  }

  private async commitOp(op: Deno.AtomicOperation): Promise<boolean> {
    const after = this.finish?.(op);
    const result = await op.commit();
    if (result.ok && after) after(result.versionstamp);
    return result.ok;
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length > 0) {
      if (this.lingering()) return;
      const group = this.queue.splice(0, this.fitting());
      this.inFlight++;
      this.commitGroup(group)
        .catch((error) => group.forEach((p) => p.fail(error)))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }

  /** How many writes at the head of the queue fit in one commit (at least one). */
  private fitting(): number {
    let weight = 0;
    for (let i = 0; i < this.queue.length; i++) {
      weight += this.queue[i].weight;
      if (weight > this.groupMax) return Math.max(1, i);
    }
    return this.queue.length;
  }

  /** Whether the queue waits for more writes to share its commit (and a timer is set). */
  private lingering(): boolean {
    // A loop, not Math.min over a mapped copy: this runs at every write, with up to a full
    // group waiting (1.4 KB of garbage a check with 5,000 monitors, bench `monitors`).
    let until = this.fitting() < this.queue.length ? 0 : Infinity;
    for (const p of this.queue) if (p.lingerUntil < until) until = p.lingerUntil;
    const wait = until - performance.now();
    if (wait <= 0) {
      if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
      return false;
    }
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = null;
      this.pump();
    }, wait);
    return true;
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    if (group.length > 1) {
      try {
        const op = this.kv.atomic();
        for (const p of group) p.write(op);
        if (await this.commitOp(op)) {
          for (const p of group) p.done(true);
          return;
        }
      } catch {
        // Deno KV throws (not `ok: false`) for an operation over its size limits, which a
        // group of writes can exceed where each alone does not: the writes go one by one
        // below, and only one that is itself too large fails.
      }
    }
    for (const p of group) {
      try {
        const op = this.kv.atomic();
        p.write(op);
        p.done(await this.commitOp(op));
      } catch (error) {
        p.fail(error);
      }
    }
  }
}
