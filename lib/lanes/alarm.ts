/**
 * One timer that rings at the earliest time it was set for: setting a later time while an
 * earlier one is pending changes nothing, setting an earlier one moves it. The dispatcher keeps
 * two (its drains, and its held items' starts).
 */
export class Alarm {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private at = Infinity;

  constructor(private readonly ring: () => void, private readonly now: () => number) {}

  /** Rings at `at` (epoch ms, by `now`), unless it rings sooner already. */
  set(at: number): void {
    if (at >= this.at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.at = Infinity;
      this.ring();
    }, Math.max(0, at - this.now()));
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.at = Infinity;
  }
}
