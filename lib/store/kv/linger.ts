/**
 * How long a run nobody waits on (`RunCompletion.mayWait`) may wait to share a commit with
 * others (GroupCommitter's `lingerMs`). 10,000 monitors `@every 20s` finish a check every 2 ms,
 * each alone in its commit otherwise. Most of the KV writer thread's time is the kernel's
 * (pages written, read and synced, once per commit for the pages a commit's runs share), so
 * fewer, larger commits cost less a check.
 */

/** The wait of a quiet system: two jobs firing together still share a commit. */
export const LINGER_MS = 50;
/**
 * The wait once such runs come BUSY_RATE a second or more: 5,000 monitors finish 250 a second,
 * 12 in 50 ms, and commits of 25 cost 4 % less CPU a check (bench `monitors`). A commit goes
 * once it is full anyway, so a longer wait only delays runs where there are few to share with.
 */
export const BUSY_LINGER_MS = 100;
export const BUSY_RATE = 100;

/** Sizes each wait by how many runs that may wait came in the last second or so. */
export class Linger {
  private since = -Infinity;
  private count = 0;
  private busy = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The wait for a run that may wait arriving now (it counts towards the rate). */
  next(): number {
    const now = this.now();
    this.count++;
    const elapsed = now - this.since;
    if (elapsed >= 1000) {
      this.busy = (this.count * 1000) / elapsed >= BUSY_RATE;
      this.since = now;
      this.count = 0;
    }
    return this.busy ? BUSY_LINGER_MS : LINGER_MS;
  }
}
