import assert from "node:assert/strict";
import { mergeSpans, WindowCoverage } from "./maintenance_window.ts";
import type { MaintenanceWindow } from "./types.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const isoSpans = (spans: [number, number][]) => spans.map(([a, b]) => [iso(a), iso(b)]);

function oneOff(start: string, end: string, fields: Partial<MaintenanceWindow> = {}) {
  return new WindowCoverage(windowOf({ start, end, ...fields }));
}

function recurring(
  schedule: string,
  durationMinutes: number,
  timezone: string,
  fields: Partial<MaintenanceWindow> = {},
) {
  return new WindowCoverage(
    windowOf({ start: null, end: null, schedule, durationMinutes, timezone, ...fields }),
  );
}

function windowOf(fields: Partial<MaintenanceWindow>): MaintenanceWindow {
  return {
    id: "mw_1",
    userId: "u",
    name: "w",
    jobIds: ["a"],
    all: false,
    start: null,
    end: null,
    schedule: null,
    durationMinutes: null,
    timezone: null,
    endedAt: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...fields,
  };
}

Deno.test("a one-off window covers [start, end) and nothing else", () => {
  const w = oneOff("2026-03-02T12:00:00Z", "2026-03-02T13:00:00Z");
  assert.equal(w.coverEndAt(at("2026-03-02T11:59:59.999Z")), null);
  assert.equal(w.coverEndAt(at("2026-03-02T12:00:00Z")), at("2026-03-02T13:00:00Z"));
  assert.equal(w.coverEndAt(at("2026-03-02T12:59:59.999Z")), at("2026-03-02T13:00:00Z"));
  assert.equal(w.coverEndAt(at("2026-03-02T13:00:00Z")), null);
  // Asked out of order, the kept answer never leaks into a time it does not cover.
  assert.equal(w.coverEndAt(at("2026-03-02T11:00:00Z")), null);
  assert.equal(w.coverEndAt(at("2026-03-02T12:30:00Z")), at("2026-03-02T13:00:00Z"));
});

Deno.test("a one-off window ended early covers nothing from then on", () => {
  const w = oneOff("2026-03-02T12:00:00Z", "2026-03-02T14:00:00Z", {
    endedAt: "2026-03-02T12:20:00.000Z",
  });
  assert.equal(w.coverEndAt(at("2026-03-02T12:10:00Z")), at("2026-03-02T12:20:00Z"));
  assert.equal(w.coverEndAt(at("2026-03-02T12:20:00Z")), null);
  assert.deepEqual(isoSpans(w.spans(at("2026-03-02T00:00:00Z"), at("2026-03-03T00:00:00Z"))), [
    ["2026-03-02T12:00:00Z", "2026-03-02T12:20:00Z"],
  ]);
  const never = oneOff("2026-03-02T12:00:00Z", "2026-03-02T14:00:00Z", {
    endedAt: "2026-03-02T11:00:00.000Z",
  });
  assert.equal(never.occurrenceAt(at("2026-03-02T10:00:00Z")), null);
  assert.equal(never.coverEndAt(at("2026-03-02T12:30:00Z")), null);
});

Deno.test("a recurring window covers each fire for its duration, across midnight", () => {
  // Saturdays 22:00 Tokyo time for two hours: 13:00Z to 15:00Z.
  const w = recurring("0 22 * * SAT", 120, "Asia/Tokyo");
  assert.equal(w.coverEndAt(at("2026-03-07T12:59:00Z")), null);
  assert.equal(w.coverEndAt(at("2026-03-07T13:00:00Z")), at("2026-03-07T15:00:00Z"));
  assert.equal(w.coverEndAt(at("2026-03-07T14:59:59Z")), at("2026-03-07T15:00:00Z"));
  assert.equal(w.coverEndAt(at("2026-03-07T15:00:00Z")), null);
  assert.equal(w.coverEndAt(at("2026-03-14T14:00:00Z")), at("2026-03-14T15:00:00Z"));
  assert.deepEqual(w.occurrenceAt(at("2026-03-08T00:00:00Z"))?.map(iso), [
    "2026-03-14T13:00:00Z",
    "2026-03-14T15:00:00Z",
  ]);
});

Deno.test("a recurring window follows DST in Europe/Berlin: real minutes from each fire", () => {
  const w = recurring("30 2 * * *", 60, "Europe/Berlin");
  const day = (d: string) => [at(`${d}T00:00:00Z`), at(`${d}T23:59:59Z`)] as const;
  // 02:30 CET is 01:30Z; on 29 March 02:30 does not exist and the fire moves to 03:00 CEST.
  assert.deepEqual(isoSpans(w.spans(...day("2026-03-28"))), [
    ["2026-03-28T01:30:00Z", "2026-03-28T02:30:00Z"],
  ]);
  assert.deepEqual(isoSpans(w.spans(...day("2026-03-29"))), [
    ["2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"],
  ]);
  assert.equal(w.coverEndAt(at("2026-03-29T00:45:00Z")), null);
  assert.equal(w.coverEndAt(at("2026-03-29T01:00:00Z")), at("2026-03-29T02:00:00Z"));
  assert.deepEqual(isoSpans(w.spans(...day("2026-03-30"))), [
    ["2026-03-30T00:30:00Z", "2026-03-30T01:30:00Z"],
  ]);
  // On 25 October 02:30 happens twice; the window opens at the first (CEST, 00:30Z) only.
  assert.equal(w.coverEndAt(at("2026-10-25T01:00:00Z")), at("2026-10-25T01:30:00Z"));
  assert.equal(w.coverEndAt(at("2026-10-25T01:45:00Z")), null);
  assert.deepEqual(isoSpans(w.spans(...day("2026-10-25"))), [
    ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"],
  ]);
});

Deno.test("a recurring window ended early stops for good, mid-occurrence", () => {
  const w = recurring("0 * * * *", 30, "UTC", { endedAt: "2026-03-02T12:10:00.000Z" });
  assert.equal(w.coverEndAt(at("2026-03-02T12:05:00Z")), at("2026-03-02T12:10:00Z"));
  assert.equal(w.coverEndAt(at("2026-03-02T12:10:00Z")), null);
  assert.equal(w.coverEndAt(at("2026-03-02T13:05:00Z")), null);
  assert.equal(w.occurrenceAt(at("2026-03-02T12:30:00Z")), null);
  assert.deepEqual(isoSpans(w.spans(at("2026-03-02T10:00:00Z"), at("2026-03-03T00:00:00Z"))), [
    ["2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"],
    ["2026-03-02T11:00:00Z", "2026-03-02T11:30:00Z"],
    ["2026-03-02T12:00:00Z", "2026-03-02T12:10:00Z"],
  ]);
});

Deno.test("spans are clipped to the range and touching occurrences merge into one", () => {
  const w = recurring("0 * * * *", 30, "UTC");
  assert.deepEqual(isoSpans(w.spans(at("2026-03-02T10:15:00Z"), at("2026-03-02T11:20:00Z"))), [
    ["2026-03-02T10:15:00Z", "2026-03-02T10:30:00Z"],
    ["2026-03-02T11:00:00Z", "2026-03-02T11:20:00Z"],
  ]);
  const solid = recurring("0 */2 * * *", 120, "UTC");
  assert.deepEqual(isoSpans(solid.spans(at("2026-03-02T00:30:00Z"), at("2026-03-02T09:00:00Z"))), [
    ["2026-03-02T00:30:00Z", "2026-03-02T09:00:00Z"],
  ]);
  assert.deepEqual(
    mergeSpans([[[1, 3], [10, 12]], [[2, 5], [12, 14]], [[20, 21]]]),
    [[1, 5], [10, 14], [20, 21]],
  );
});

Deno.test("spans over 90 days of an hourly window are expanded once, then sliced as the clock moves", () => {
  const w = recurring("0 * * * *", 5, "Europe/Berlin");
  const now = at("2026-06-01T00:00:00Z");
  const from = now - 90 * 86_400_000;
  const spans = w.spans(from, now);
  assert.equal(spans.length, 90 * 24);
  // The clock moves on a minute at a time for a day: served from what was expanded, which
  // reaches a day past the end asked for.
  for (let i = 0; i < 1440; i++) w.spans(from + i * 60_000, now + i * 60_000);
  assert.equal(w.expansions, 1);
  assert.deepEqual(w.spans(from + 30 * 60_000, from + 90 * 60_000).length, 1);
});

Deno.test("endsIn() names where coverage really stopped, not where the range was cut", () => {
  const w = recurring("0 * * * *", 30, "UTC");
  const base = at("2026-03-02T10:00:00Z");
  const minute = 60_000;
  assert.deepEqual(w.endsIn(base, base + 60 * minute).map(iso), ["2026-03-02T10:30:00Z"]);
  assert.deepEqual(w.endsIn(base + 30 * minute, base + 31 * minute).map(iso), [
    "2026-03-02T10:30:00Z",
  ]);
  assert.deepEqual(w.endsIn(base + 29 * minute, base + 30 * minute), []);
  assert.deepEqual(w.endsIn(base, base + 20 * minute), []);
  const solid = recurring("0 * * * *", 60, "UTC");
  assert.deepEqual(solid.endsIn(base, base + 180 * minute), []);
});
