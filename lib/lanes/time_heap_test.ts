import assert from "node:assert/strict";
import { TimeHeap } from "./time_heap.ts";

const byTime = () => new TimeHeap<{ at: number }>((item) => item.at);

Deno.test("a time heap hands items back soonest first, whatever order they came in", () => {
  const heap = byTime();
  assert.equal(heap.peekTime(), Infinity);
  assert.equal(heap.pop(), undefined);
  const times = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
  for (const at of times) heap.push({ at });
  assert.equal(heap.size, 1000);
  const out: number[] = [];
  while (heap.size > 0) {
    const soonest = heap.peekTime();
    const item = heap.pop()!;
    assert.equal(item.at, soonest);
    out.push(item.at);
  }
  assert.deepEqual(out, [...times].sort((a, b) => a - b));
});

Deno.test("a time heap interleaves pushes and pops, and gives everything up at once", () => {
  const heap = byTime();
  heap.push({ at: 50 });
  heap.push({ at: 10 });
  assert.equal(heap.pop()?.at, 10);
  heap.push({ at: 5 });
  heap.push({ at: 70 });
  assert.deepEqual([heap.pop()?.at, heap.pop()?.at, heap.pop()?.at, heap.pop()], [
    5,
    50,
    70,
    undefined,
  ]);
  heap.push({ at: 3 });
  heap.push({ at: 1 });
  assert.deepEqual(heap.takeAll().map((item) => item.at).sort(), [1, 3]);
  assert.equal(heap.size, 0);
  assert.equal(heap.peekTime(), Infinity);
});
