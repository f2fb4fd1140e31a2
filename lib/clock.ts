/** Wall-clock source, injected everywhere time matters so tests can move it by hand. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves once `now()` has reached `at` (epoch ms). The system clock waits in real time; a
   * manual clock waits until a test moves it there, so nothing runs before its time by the
   * clock the test reads.
   */
  until(at: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), until: untilByWallClock };

/**
 * Waits until Date.now() reaches `at`. Timers keep their own (monotonic) time, so one may ring
 * a millisecond before the wall clock gets there: a run would then start before its second.
 */
function untilByWallClock(at: number): Promise<void> {
  if (at <= Date.now()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      const left = at - Date.now();
      if (left > 0) setTimeout(check, left);
      else resolve();
    };
    check();
  });
}

/** A clock that only moves when told to: for tests of time-dependent logic. */
export class ManualClock implements Clock {
  private readonly waits: { at: number; resolve: () => void }[] = [];

  constructor(private ms: number) {}

  now(): number {
    return this.ms;
  }

  until(at: number): Promise<void> {
    if (at <= this.ms) return Promise.resolve();
    return new Promise((resolve) => this.waits.push({ at, resolve }));
  }

  set(ms: number): void {
    this.ms = ms;
    for (let i = this.waits.length - 1; i >= 0; i--) {
      const wait = this.waits[i];
      if (wait.at > ms) continue;
      this.waits.splice(i, 1);
      wait.resolve();
    }
  }

  advance(ms: number): void {
    this.set(this.ms + ms);
  }
}
