/**
 * The distinct times of a dispatcher's held items, soonest first: a binary min-heap, so adding
 * a time and taking the soonest cost O(log n). The dispatcher looks for the due times at every
 * wake; with fires spread over the second (lib/schedule/interval.ts) it holds tens of thousands
 * of distinct times, and filtering and sorting them all at each of hundreds of wakes a second
 * cost more than the fires themselves.
 */
export class TimeHeap {
  private readonly times: number[] = [];

  get size(): number {
    return this.times.length;
  }

  /** The soonest time, or Infinity when empty. */
  peek(): number {
    return this.times.length > 0 ? this.times[0] : Infinity;
  }

  push(time: number): void {
    const times = this.times;
    let i = times.push(time) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      i = parent;
    }
    times[i] = time;
  }

  /** Removes and returns the soonest time (Infinity when empty). */
  pop(): number {
    const times = this.times;
    if (times.length === 0) return Infinity;
    const top = times[0];
    const last = times.pop()!;
    if (times.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= times.length) break;
        const right = left + 1;
        const child = right < times.length && times[right] < times[left] ? right : left;
        if (times[child] >= last) break;
        times[i] = times[child];
        i = child;
      }
      times[i] = last;
    }
    return top;
  }

  clear(): void {
    this.times.length = 0;
  }
}
