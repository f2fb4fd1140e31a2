/**
 * Group commit: writes that arrive close together share one atomic operation, which is what
 * lets one process record thousands of results a second on Deno KV. Each write brings its
 * own checks; if a shared operation fails because one of them did not hold, every write in
 * it is retried alone, so one conflict never sinks its neighbours.
 */

/** Keeps a shared operation well inside Deno KV's 100 checks and 1000 mutations. */
const GROUP_MAX = 30;

export type Write = (op: Deno.AtomicOperation) => void;

interface Pending {
  write: Write;
  done: (committed: boolean) => void;
  fail: (error: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly kv: Deno.Kv, private readonly groupMax = GROUP_MAX) {}

  /** Resolves true when the write committed, false when one of its checks failed. */
  commit(write: Write): Promise<boolean> {
    return new Promise((done, fail) => {
      this.queue.push({ write, done, fail });
      if (this.queue.length >= this.groupMax) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(() => this.flush(), 0);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.groupMax);
      this.commitGroup(group).catch((error) => group.forEach((p) => p.fail(error)));
    }
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    if (group.length > 1) {
      const op = this.kv.atomic();
      for (const p of group) p.write(op);
      if ((await op.commit()).ok) {
        for (const p of group) p.done(true);
        return;
      }
    }
    for (const p of group) {
      try {
        const op = this.kv.atomic();
        p.write(op);
        p.done((await op.commit()).ok);
      } catch (error) {
        p.fail(error);
      }
    }
  }
}
