import assert from "node:assert/strict";
import { formatDuration } from "./duration.ts";

Deno.test("formatDuration() says at most two units, rounding down", () => {
  assert.equal(formatDuration(null), "—");
  assert.equal(formatDuration(-5), "0 s");
  assert.equal(formatDuration(45_999), "45 s");
  assert.equal(formatDuration(12 * 60_000 + 59_000), "12 min");
  assert.equal(formatDuration(3 * 3_600_000 + 5 * 60_000 + 30_000), "3 h 05 min");
  assert.equal(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 13 * 60_000), "2 d 4 h");
});
