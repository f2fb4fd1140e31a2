import assert from "node:assert/strict";
import { timeRange } from "./job_chart.tsx";

const at = (iso: string) => Date.parse(iso) / 1000;

Deno.test("timeRange() puts a single run in a window of minutes around it, not years", () => {
  const one = at("2026-11-23T14:52:30Z");
  const [min, max] = timeRange([one]);
  assert.ok(min! < one && one < max!);
  assert.equal(max! - min!, 600);
});

Deno.test("timeRange() keeps the runs' own span once it is wide enough", () => {
  const times = [
    at("2026-11-23T14:00:00Z"),
    at("2026-11-23T14:30:00Z"),
    at("2026-11-23T15:00:00Z"),
  ];
  assert.deepEqual(timeRange(times), [times[0], times[2]]);
  // Two runs seconds apart widen to the same ten minutes, centred on them.
  assert.deepEqual(timeRange([1000, 1010]), [1000 - 295, 1010 + 295]);
  assert.deepEqual(timeRange([]), [null, null]);
});
