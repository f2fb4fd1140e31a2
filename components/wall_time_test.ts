import assert from "node:assert/strict";
import { instantOfWallTime, wallTimeInZone } from "./wall_time.ts";

const at = (iso: string) => Date.parse(iso);

Deno.test("instantOfWallTime() reads a wall clock in a zone, and wallTimeInZone() writes it", () => {
  assert.equal(instantOfWallTime("2026-03-29T01:00", "Asia/Tokyo"), at("2026-03-28T16:00:00Z"));
  assert.equal(instantOfWallTime("2026-03-29T01:00:30", "UTC"), at("2026-03-29T01:00:30Z"));
  assert.equal(wallTimeInZone(at("2026-03-28T16:00:00Z"), "Asia/Tokyo"), "2026-03-29T01:00");
  assert.equal(wallTimeInZone(at("2026-07-01T12:34:56Z"), "America/New_York"), "2026-07-01T08:34");
});

Deno.test("instantOfWallTime() moves a time DST skips on by the gap and takes a repeated one's first pass", () => {
  // 02:30 does not exist in New York on 2026-03-08: it reads as 03:30 EDT.
  assert.equal(
    instantOfWallTime("2026-03-08T02:30", "America/New_York"),
    at("2026-03-08T07:30:00Z"),
  );
  // 01:30 happens twice on 2026-11-01: EDT first.
  assert.equal(
    instantOfWallTime("2026-11-01T01:30", "America/New_York"),
    at("2026-11-01T05:30:00Z"),
  );
  assert.equal(instantOfWallTime("2026-10-25T02:30", "Europe/Berlin"), at("2026-10-25T00:30:00Z"));
});

Deno.test("instantOfWallTime() refuses what is not a date and time, and unknown zones", () => {
  assert.equal(instantOfWallTime("2026-02-30T10:00", "UTC"), null);
  assert.equal(instantOfWallTime("tomorrow", "UTC"), null);
  assert.equal(instantOfWallTime("2026-03-29 01:00", "UTC"), null);
  assert.throws(() => instantOfWallTime("2026-03-29T01:00", "Mars/Olympus"), RangeError);
});
