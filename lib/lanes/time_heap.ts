/**
 * A dispatcher's held items, soonest first: a binary min-heap by each item's time, so adding
 * an item and taking the soonest cost O(log n). The dispatcher looks for the due items at every
 * wake; with fires spread over the second (lib/schedule/interval.ts) it holds tens of thousands
 * of them at distinct times, and filtering and sorting them all at each of hundreds of wakes a
 * second cost more than the fires themselves. The items themselves are the heap (no bucket per
 * time beside them): 10,000 monitors hold up to 45,000 fires, and an array and a map entry for
 * each were a tenth of the process's live heap.
 */
export class TimeHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly timeOf: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  /** The soonest item's time, or Infinity when empty. */
  peekTime(): number {
    return this.items.length > 0 ? this.timeOf(this.items[0]) : Infinity;
  }

  push(item: T): void {
    const items = this.items;
    const time = this.timeOf(item);
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.timeOf(items[parent]) <= time) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the soonest item (undefined when empty). */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      const time = this.timeOf(last);
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && this.timeOf(items[right]) < this.timeOf(items[left])
          ? right
          : left;
        if (this.timeOf(items[child]) >= time) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }

  /** Removes and returns every item, in no particular order. */
  takeAll(): T[] {
    return this.items.splice(0);
  }
}
