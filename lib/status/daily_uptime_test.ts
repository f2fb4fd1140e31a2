import assert from "node:assert/strict";
import { band, barStart, DAY_MS, dayFigures } from "./daily_uptime.ts";

const MIN = 60_000;
const MAR2 = Date.UTC(2026, 2, 2);
const MAR3 = MAR2 + DAY_MS;

Deno.test("dayFigures() splits an incident across midnight and leaves maintenance out", () => {
  const incidents: [number, number][] = [[MAR3 - 30 * MIN, MAR3 + 90 * MIN]];
  const maintenance: [number, number][] = [[MAR3 + 60 * MIN, MAR3 + 120 * MIN]];
  const created = MAR2 + 12 * 60 * MIN;
  const now = MAR3 + 6 * 60 * MIN;
  const before = dayFigures(MAR2, { now, created, incidents, maintenance });
  // 12:00 to 24:00 counted (the job was made at noon), 30 minutes down.
  assert.deepEqual(before, {
    date: "2026-03-02",
    uptime: 1 - 30 / 720,
    countedMs: 720 * MIN,
    downMs: 30 * MIN,
    maintenanceMs: 0,
    incidents: 1,
  });
  // 00:00 to 06:00 (now), less the hour of maintenance; down 00:00–01:00 only.
  assert.deepEqual(dayFigures(MAR3, { now, created, incidents, maintenance }), {
    date: "2026-03-03",
    uptime: 1 - 60 / 300,
    countedMs: 300 * MIN,
    downMs: 60 * MIN,
    maintenanceMs: 60 * MIN,
    incidents: 1,
  });
});

Deno.test("dayFigures() has no data for days before the job existed or still to come", () => {
  const figures = dayFigures(MAR2 - DAY_MS, {
    now: MAR3,
    created: MAR2,
    incidents: [],
    maintenance: [],
  });
  assert.equal(figures.uptime, null);
  assert.equal(band(figures), "none");
});

Deno.test("band() colours a day by its uptime; a day all maintenance is maintenance", () => {
  const day = (uptime: number | null, maintenanceMs = 0) => ({
    date: "d",
    uptime,
    countedMs: 1,
    downMs: 0,
    maintenanceMs,
    incidents: 0,
  });
  assert.equal(band(day(1)), "ok");
  assert.equal(band(day(0.999)), "ok");
  assert.equal(band(day(0.9989)), "minor");
  assert.equal(band(day(0.99)), "minor");
  assert.equal(band(day(0.95)), "partial");
  assert.equal(band(day(0.9499)), "major");
  assert.equal(band(day(null, DAY_MS)), "maintenance");
});

Deno.test("barStart() is 89 UTC days before today's start", () => {
  assert.equal(barStart(MAR3 + 5 * MIN), MAR3 - 89 * DAY_MS);
});
