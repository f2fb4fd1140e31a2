import assert from "node:assert/strict";
import { countFireTimes, isFireTime, nextFireTimes, parseSchedule } from "./schedule.ts";
import { isLegacyIntervalTime } from "./interval.ts";
import { assertEquals, at, interval, scheduleError } from "./test_support.ts";

Deno.test("parseSchedule() reads intervals with units s, m, h and d", () => {
  const cases: [string, number][] = [
    ["@every 30s", 30_000],
    ["@every 90s", 90_000],
    ["@every 5m", 300_000],
    ["@every 1h", 3_600_000],
    ["@every 1h30m", 5_400_000],
    ["@every 1d", 86_400_000],
    ["@every 31d", 31 * 86_400_000],
  ];
  for (const [text, everyMs] of cases) {
    const schedule = parseSchedule(text, { timezone: "Asia/Tokyo", key: "job-1" });
    if (schedule.kind !== "interval") throw new Error(text);
    assertEquals(schedule.everyMs, everyMs, text);
    assertEquals(schedule.timezone, "Asia/Tokyo");
    assert(schedule.phaseMs % 1000 === 0 && schedule.phaseMs >= 0 && schedule.phaseMs < everyMs);
  }
});

Deno.test("parseSchedule() rejects bad intervals", () => {
  const bad: [string, string][] = [
    ["@every", 'Interval is missing: expected e.g. "@every 5m"'],
    ["@every 2w", 'Unknown interval unit "w"'],
    ["@every 500ms", 'Unknown interval unit "ms"'],
    ["@every 0s", "Interval must be at least 1 second"],
    ["@every 32d", "Interval must be at most 31 days"],
    [
      "@every 1.5h",
      'Interval "1.5h" is invalid: expected whole numbers with units s, m, h or d, e.g. "1h30m"',
    ],
    [
      "@every 5",
      'Interval "5" is invalid: expected whole numbers with units s, m, h or d, e.g. "1h30m"',
    ],
  ];
  for (const [text, message] of bad) {
    scheduleError(() => parseSchedule(text, { key: "a" }), "schedule", message);
  }
});

Deno.test("parseSchedule() fixes an interval's phase by the job id, in whole seconds", () => {
  const a = parseSchedule("@every 60s", { key: "job-42" });
  assertEquals(parseSchedule("@every 60s", { key: "job-42" }), a);
  if (a.kind !== "interval") throw new Error("not an interval");
  // FNV-1a("job-42") = 0xd5178945 = 3575089477, and 3575089477 % 60 = 37.
  assertEquals(a.phaseMs, 37_000);
  const distinct = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const s = parseSchedule("@every 60s", { key: `job-${i}` });
    if (s.kind !== "interval") throw new Error("not an interval");
    distinct.add(s.phaseMs);
  }
  assert(distinct.size > 10);
});

Deno.test("parseSchedule() spreads 10,000 interval jobs evenly over their period", () => {
  const perSecond = new Array(60).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const s = parseSchedule("@every 60s", { key: `job-${i}` });
    if (s.kind !== "interval") throw new Error("not an interval");
    perSecond[s.phaseMs / 1000]++;
  }
  for (const count of perSecond) assert(count >= 100 && count <= 240, `${perSecond}`);
  const perSecondUuid = new Array(60).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const s = parseSchedule("@every 1m", { key: crypto.randomUUID() });
    if (s.kind !== "interval") throw new Error("not an interval");
    perSecondUuid[s.phaseMs / 1000]++;
  }
  for (const count of perSecondUuid) assert(count >= 100 && count <= 240, `${perSecondUuid}`);
});

Deno.test("nextFireTimes() gives interval times congruent to the phase, strictly after", () => {
  const s = interval(90_000, 15_000);
  const start = at("2026-05-01T00:00:00Z"); // a multiple of 90 s since the epoch
  assertEquals(nextFireTimes(s, start, { limit: 3 }), [
    start + 15_000,
    start + 105_000,
    start + 195_000,
  ]);
  assertEquals(nextFireTimes(s, start + 15_000, { limit: 1 }), [start + 105_000]);
  assertEquals(nextFireTimes(s, start + 14_999, { limit: 1 }), [start + 15_000]);
  const everySecond = nextFireTimes(interval(1000, 0), start + 1, { limit: 60 });
  assertEquals(everySecond.length, 60);
  assertEquals(everySecond[0], start + 1000);
  assertEquals(everySecond[59], start + 60_000);
});

Deno.test("an interval job's own fires come spreadMs after its intervals' start, spread over the second", () => {
  const s = interval(20_000, 7_000, 431);
  const start = at("2026-05-01T00:00:00Z");
  assertEquals(nextFireTimes(s, start, { limit: 2 }), [start + 7_431, start + 27_431]);
  assert(isFireTime(s, start + 7_431));
  assert(!isFireTime(s, start + 7_000));
  assertEquals(countFireTimes(s, start, start + 60_000, 10), 3);
  // The fire a release without spread claimed, at the interval's start, is recognised.
  if (s.kind !== "interval") throw new Error("not an interval");
  assert(isLegacyIntervalTime(s, start + 7_000));
  assert(!isLegacyIntervalTime(s, start + 7_431));
  // 10,000 jobs sharing a period: their fires spread over each second, not on it.
  const perTenth = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const parsed = parseSchedule("@every 20s", { key: crypto.randomUUID() });
    if (parsed.kind !== "interval") throw new Error("not an interval");
    assert(parsed.phaseMs % 1000 === 0 && parsed.spreadMs >= 0 && parsed.spreadMs < 1000);
    perTenth[Math.floor(parsed.spreadMs / 100)]++;
  }
  for (const count of perTenth) assert(count >= 850 && count <= 1150, `${perTenth}`);
  assertEquals(
    parseSchedule("@every 20s", { key: "job-42" }),
    parseSchedule("@every 20s", { key: "job-42" }),
  );
});
