import assert from "node:assert/strict";
import { ManualClock, systemClock } from "./clock.ts";

Deno.test("systemClock.until resolves each wait at its time, not before, soonest first", async () => {
  const base = Date.now();
  const order: number[] = [];
  const lateness: number[] = [];
  const offsets = [60, 20, 40, 20, -5];
  await Promise.all(offsets.map((offset) =>
    systemClock.until(base + offset).then(() => {
      order.push(offset);
      lateness.push(Date.now() - (base + offset));
    })
  ));
  assert.deepEqual(order, [-5, 20, 20, 40, 60]);
  assert.ok(lateness.every((ms) => ms >= 0), `resolved early: ${lateness}`);
});

Deno.test("ManualClock.until resolves when the clock is moved to the time, however long that takes", async () => {
  const clock = new ManualClock(1_000);
  const done: string[] = [];
  const a = clock.until(1_500).then(() => done.push("a"));
  const b = clock.until(2_000).then(() => done.push("b"));
  await clock.until(1_000); // already there
  clock.advance(499);
  await Promise.resolve();
  assert.deepEqual(done, []);
  clock.advance(1);
  await a;
  assert.deepEqual(done, ["a"]);
  clock.set(5_000);
  await b;
  assert.deepEqual(done, ["a", "b"]);
});
