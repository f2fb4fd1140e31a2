import assert from "node:assert/strict";
import { TimeHeap } from "./time_heap.ts";

Deno.test("a time heap hands times back soonest first, whatever order they came in", () => {
  const heap = new TimeHeap();
  assert.equal(heap.peek(), Infinity);
  assert.equal(heap.pop(), Infinity);
  const times = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
  for (const t of times) heap.push(t);
  assert.equal(heap.size, 1000);
  const out: number[] = [];
  while (heap.size > 0) {
    assert.equal(heap.peek(), heap.peek());
    out.push(heap.pop());
  }
  assert.deepEqual(out, [...times].sort((a, b) => a - b));
});

Deno.test("a time heap interleaves pushes and pops", () => {
  const heap = new TimeHeap();
  heap.push(50);
  heap.push(10);
  assert.equal(heap.pop(), 10);
  heap.push(5);
  heap.push(70);
  assert.deepEqual([heap.pop(), heap.pop(), heap.pop(), heap.pop()], [5, 50, 70, Infinity]);
  heap.push(3);
  heap.clear();
  assert.equal(heap.size, 0);
});
