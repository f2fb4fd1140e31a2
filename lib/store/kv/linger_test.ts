import assert from "node:assert/strict";
import { BUSY_LINGER_MS, BUSY_RATE, Linger, LINGER_MS } from "./linger.ts";

Deno.test("runs wait longer to share a commit only while they come often", () => {
  let now = 10_000;
  const linger = new Linger(() => now);
  // A quiet system: a run now and then keeps the short wait.
  for (let i = 0; i < 5; i++, now += 400) assert.equal(linger.next(), LINGER_MS);
  // Runs coming at the busy rate: once a whole second of them is counted, they wait longer.
  const busy: number[] = [];
  for (let i = 0; i < 2 * BUSY_RATE; i++, now += 1000 / BUSY_RATE) busy.push(linger.next());
  assert.equal(busy[0], LINGER_MS);
  assert.equal(busy.at(-1), BUSY_LINGER_MS);
  // At half the rate for two seconds: back to the short wait.
  const slower: number[] = [];
  for (let i = 0; i < BUSY_RATE; i++, now += 2000 / BUSY_RATE) slower.push(linger.next());
  assert.equal(slower.at(-1), LINGER_MS);
});
