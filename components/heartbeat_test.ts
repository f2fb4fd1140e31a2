import assert from "node:assert/strict";
import { beatsOf, packRows, unpackRows } from "../lib/jobs/dashboard.ts";
import type { RecentResult } from "../lib/store/recent_results.ts";
import { beatTimes } from "./heartbeat.tsx";

const T = Date.UTC(2026, 2, 2, 12, 0, 0);

function result(at: number, fields: Partial<RecentResult> = {}): RecentResult {
  return { at, status: "success", latencyMs: 20, maintenance: false, ...fields };
}

Deno.test("beatsOf() packs times as runs of gaps that beatTimes() reads back", () => {
  const times = [T, T + 60_000, T + 120_000, T + 180_000, T + 185_000, T + 190_000, T + 900_000];
  const beats = beatsOf(times.map((at) => result(at)), null);
  assert.deepEqual(beats.t, [T / 1000, 60, 3, 5, 2, 710, 1]);
  assert.deepEqual(beatTimes(beats), times);
  assert.deepEqual(beatTimes(beatsOf([], null)), []);
});

Deno.test("beatsOf() tells each result by a letter, slow successes as degraded", () => {
  const beats = beatsOf([
    result(T),
    result(T + 1000, { latencyMs: 800 }),
    result(T + 2000, { status: "failure", latencyMs: 800 }),
    result(T + 3000, { status: "missed", latencyMs: null }),
    result(T + 4000, { maintenance: true, status: "failure" }),
  ], 500);
  assert.equal(beats.s, "ugdmw");
  assert.deepEqual(beats.ms, [20, 800, 800, -1, 20]);
  assert.equal(beatsOf([result(T, { latencyMs: 800 })], null).s, "u");
});

Deno.test("packRows() and unpackRows() carry a row whole", () => {
  const row = {
    id: "j1",
    name: "API",
    method: "GET",
    url: "https://example.com/",
    schedule: "* * * * *",
    timezone: "UTC",
    state: "degraded" as const,
    count: 3,
    beats: beatsOf([result(T), result(T + 60_000)], null),
    uptime24h: 0.5,
    uptime30d: null,
    p95LatencyMs: -1,
  };
  assert.deepEqual(unpackRows(JSON.parse(JSON.stringify(packRows([row])))), [row]);
});
