import assert from "node:assert/strict";
import { uptimeBetween } from "./uptime.ts";

const H = 3_600_000;

Deno.test("uptimeBetween() counts the time inside incidents as down", () => {
  const figures = uptimeBetween(0, 24 * H, [[H, H + 90_000]], []);
  assert.deepEqual(figures, {
    countedMs: 24 * H,
    downMs: 90_000,
    maintenanceMs: 0,
    uptime: 1 - 90_000 / (24 * H),
  });
});

Deno.test("uptimeBetween() clips incidents to the range", () => {
  const figures = uptimeBetween(10 * H, 20 * H, [[9 * H, 11 * H], [19 * H, 25 * H]], []);
  assert.equal(figures.downMs, 2 * H);
  assert.equal(figures.countedMs, 10 * H);
});

Deno.test("uptimeBetween() leaves maintenance out of both the counted and the down time", () => {
  // Down 2 h to 5 h; maintenance 4 h to 6 h and 1 h to 3 h (overlapping the incident twice).
  const figures = uptimeBetween(0, 10 * H, [[2 * H, 5 * H]], [[4 * H, 6 * H], [H, 3 * H]]);
  assert.equal(figures.maintenanceMs, 4 * H);
  assert.equal(figures.countedMs, 6 * H);
  assert.equal(figures.downMs, H); // 3 h to 4 h
  assert.equal(figures.uptime, 1 - 1 / 6);
});

Deno.test("uptimeBetween() merges overlapping maintenance spans", () => {
  const figures = uptimeBetween(0, 10 * H, [], [[H, 4 * H], [2 * H, 3 * H], [3 * H, 5 * H]]);
  assert.equal(figures.maintenanceMs, 4 * H);
  assert.equal(figures.uptime, 1);
});

Deno.test("uptimeBetween() answers null when no time counts", () => {
  assert.equal(uptimeBetween(5, 5, [], []).uptime, null);
  assert.equal(uptimeBetween(0, H, [], [[0, H]]).uptime, null);
});
