/**
 * What changed since a status page was built, in this process: the alert engine and the
 * incident service note each job whose state or incidents changed (`note`), and the board asks
 * whether any of a page's jobs changed after the sequence number it built at. Another process's
 * changes are not seen here: the board's time to live bounds how long they go unshown.
 */

/** Jobs remembered at most; past it the log starts over and every page counts as changed. */
const LIMIT = 100_000;

export class ChangeLog {
  #seq = 0;
  /** Changes before this are forgotten: a page built before it is stale. */
  #floor = 0;
  readonly #jobs = new Map<string, number>();

  /** The sequence number of the newest change (a page built now is current as of it). */
  get seq(): number {
    return this.#seq;
  }

  note(userId: string, jobId: string): void {
    if (this.#jobs.size >= LIMIT) {
      this.#jobs.clear();
      this.#floor = this.#seq + 1;
    }
    this.#jobs.set(`${userId}\n${jobId}`, ++this.#seq);
  }

  /** Whether any of the owner's `jobIds` changed after `seq`. */
  changedSince(userId: string, jobIds: readonly string[], seq: number): boolean {
    if (seq < this.#floor) return true;
    for (const jobId of jobIds) {
      if ((this.#jobs.get(`${userId}\n${jobId}`) ?? 0) > seq) return true;
    }
    return false;
  }
}
