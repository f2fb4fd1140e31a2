import assert from "node:assert/strict";
import { Cron } from "croner";
import {
  countFireTimes,
  isFireTime,
  nextFireTimes,
  parseSchedule,
  type Schedule,
  ScheduleError,
} from "./schedule.ts";

function assertEquals<T>(actual: unknown, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function fires(text: string, timezone: string, after: string, limit: number): string[] {
  const schedule = parseSchedule(text, { timezone, key: "job" });
  return nextFireTimes(schedule, at(after), { limit }).map(iso);
}

function scheduleError(fn: () => unknown, field: "schedule" | "timezone", message: string) {
  let error: unknown;
  try {
    fn();
  } catch (thrown) {
    error = thrown;
  }
  assert(error instanceof ScheduleError, `expected a ScheduleError: ${message}`);
  assert(error instanceof RangeError);
  assertEquals(error.name, "ScheduleError");
  assertEquals(error.field, field);
  assertEquals(error.message, message);
}

// --- parsing --------------------------------------------------------------------------------

Deno.test("parseSchedule() reads a 5-field cron expression in UTC by default", () => {
  assertEquals(parseSchedule("  */5   * * * * ", { key: "a" }), {
    kind: "cron",
    expression: "*/5 * * * *",
    timezone: "UTC",
    seconds: false,
  });
  assertEquals(fires("*/5 * * * *", "UTC", "2026-05-01T10:02:30Z", 3), [
    "2026-05-01T10:05:00Z",
    "2026-05-01T10:10:00Z",
    "2026-05-01T10:15:00Z",
  ]);
});

Deno.test("parseSchedule() reads a 6-field cron expression with seconds first", () => {
  const schedule = parseSchedule("*/10 * * * * *", { timezone: "Europe/Berlin", key: "a" });
  assertEquals(schedule, {
    kind: "cron",
    expression: "*/10 * * * * *",
    timezone: "Europe/Berlin",
    seconds: true,
  });
  assertEquals(nextFireTimes(schedule, at("2026-05-01T10:00:05.500Z"), { limit: 3 }).map(iso), [
    "2026-05-01T10:00:10Z",
    "2026-05-01T10:00:20Z",
    "2026-05-01T10:00:30Z",
  ]);
  assertEquals(fires("30 15 9 * * *", "UTC", "2026-05-01T00:00:00Z", 1), ["2026-05-01T09:15:30Z"]);
});

Deno.test("parseSchedule() expands the nicknames", () => {
  const cases: [string, string][] = [
    ["@hourly", "0 * * * *"],
    ["@daily", "0 0 * * *"],
    ["@midnight", "0 0 * * *"],
    ["@weekly", "0 0 * * 0"],
    ["@monthly", "0 0 1 * *"],
    ["@yearly", "0 0 1 1 *"],
    ["@ANNUALLY", "0 0 1 1 *"],
  ];
  for (const [nickname, expression] of cases) {
    const schedule = parseSchedule(nickname, { key: "a" });
    assertEquals(schedule.kind === "cron" && schedule.expression, expression, nickname);
  }
  assertEquals(fires("@weekly", "Asia/Tokyo", "2026-05-01T00:00:00Z", 2), [
    "2026-05-02T15:00:00Z", // Sunday 00:00 JST
    "2026-05-09T15:00:00Z",
  ]);
});

Deno.test("parseSchedule() supports lists, ranges, steps, names and L", () => {
  // Weekdays at 09:00 and 17:30 in March.
  assertEquals(fires("0,30 9-17/8 * MAR mon-FRI", "UTC", "2026-03-05T12:00:00Z", 5), [
    "2026-03-05T17:00:00Z",
    "2026-03-05T17:30:00Z",
    "2026-03-06T09:00:00Z",
    "2026-03-06T09:30:00Z",
    "2026-03-06T17:00:00Z",
  ]);
  assertEquals(fires("0 0 L * *", "UTC", "2026-01-15T00:00:00Z", 3), [
    "2026-01-31T00:00:00Z",
    "2026-02-28T00:00:00Z",
    "2026-03-31T00:00:00Z",
  ]);
  assertEquals(fires("0 12 * * FRI#2,5L", "UTC", "2026-05-01T00:00:00Z", 3), [
    "2026-05-08T12:00:00Z",
    "2026-05-29T12:00:00Z",
    "2026-06-12T12:00:00Z",
  ]);
  // Day 7 is Sunday; `5/20` means 5-59/20.
  assertEquals(fires("5/20 0 * * 7", "UTC", "2026-05-01T00:00:00Z", 3), [
    "2026-05-03T00:05:00Z",
    "2026-05-03T00:25:00Z",
    "2026-05-03T00:45:00Z",
  ]);
});

Deno.test("parseSchedule() ORs restricted day-of-month and day-of-week as Vixie cron does", () => {
  // The 1st of the month, and every Monday.
  assertEquals(fires("0 9 1 * MON", "UTC", "2026-05-30T00:00:00Z", 3), [
    "2026-06-01T09:00:00Z",
    "2026-06-08T09:00:00Z",
    "2026-06-15T09:00:00Z",
  ]);
  // A `*` in either field makes the other one alone decide.
  assertEquals(fires("0 9 * * MON", "UTC", "2026-05-30T00:00:00Z", 1), ["2026-06-01T09:00:00Z"]);
  assertEquals(fires("0 9 1 * *", "UTC", "2026-05-30T00:00:00Z", 1), ["2026-06-01T09:00:00Z"]);
});

Deno.test("parseSchedule() rejects bad cron expressions", () => {
  const bad: [string, string][] = [
    ["", "Schedule is empty"],
    ["* * * * * * *", "Cron expression has 7 fields: expected 5, or 6 with seconds first"],
    ["* * * *", "Cron expression has 4 fields: expected 5, or 6 with seconds first"],
    ["hello", "Cron expression has 1 field: expected 5, or 6 with seconds first"],
    ["61 * * * *", "Cron minute field is invalid: 61 is outside 0-59"],
    ["0 24 * * *", "Cron hour field is invalid: 24 is outside 0-23"],
    ["0 0 0 * *", "Cron day-of-month field is invalid: 0 is outside 1-31"],
    ["0 0 * 13 *", "Cron month field is invalid: 13 is outside 1-12"],
    ["0 0 * * 8", "Cron day-of-week field is invalid: 8 is outside 0-7"],
    ["*/0 * * * *", 'Cron minute field is invalid: "*/0"'],
    ["0 0 * FOO *", 'Cron month field is invalid: "FOO"'],
    ["0 0 * * FRI-MON", 'Cron day-of-week field is invalid: range "FRI-MON" runs backwards'],
    ["1,,2 * * * *", 'Cron minute field is invalid: "1,,2"'],
    ["0 0 15W * *", 'Cron day-of-month field is invalid: "15W"'],
    ["@reboot", 'Unknown schedule nickname "@reboot"'],
  ];
  for (const [text, message] of bad) {
    scheduleError(() => parseSchedule(text, { key: "a" }), "schedule", message);
  }
});

Deno.test("parseSchedule() rejects a schedule that never fires", () => {
  for (const text of ["0 0 30 2 *", "0 0 31 4,6 *", "0 0 0 31 11 *"]) {
    scheduleError(
      () => parseSchedule(text, { key: "a" }),
      "schedule",
      `Schedule never fires: "${text}"`,
    );
  }
  // Rare but real: 29 February fires every four years.
  assertEquals(fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 2), [
    "2028-02-29T00:00:00Z",
    "2032-02-29T00:00:00Z",
  ]);
});

Deno.test("parseSchedule() validates the time zone, accepting aliases", () => {
  scheduleError(
    () => parseSchedule("* * * * *", { timezone: "Mars/Olympus", key: "a" }),
    "timezone",
    'Unknown time zone "Mars/Olympus"',
  );
  scheduleError(
    () => parseSchedule("@every 5m", { timezone: "", key: "a" }),
    "timezone",
    "Time zone is empty",
  );
  for (const timezone of ["Asia/Calcutta", "Asia/Kolkata", "US/Eastern", "Etc/GMT-9", "utc"]) {
    assertEquals(parseSchedule("0 9 * * *", { timezone, key: "a" }).timezone, timezone);
  }
  assertEquals(fires("0 9 * * *", "Asia/Calcutta", "2026-05-01T00:00:00Z", 1), [
    "2026-05-01T03:30:00Z",
  ]);
});

// --- intervals ------------------------------------------------------------------------------

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

const interval = (everyMs: number, phaseMs: number): Schedule => ({
  kind: "interval",
  everyMs,
  phaseMs,
  timezone: "UTC",
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

Deno.test("nextFireTimes() stops strictly before beforeMs", () => {
  const start = at("2026-05-01T00:00:00Z");
  assertEquals(
    nextFireTimes(interval(60_000, 0), start, { limit: 10, beforeMs: start + 180_000 }),
    [
      start + 60_000,
      start + 120_000,
    ],
  );
  const cron = parseSchedule("*/5 * * * *", { key: "a" });
  assertEquals(
    nextFireTimes(cron, start, { limit: 10, beforeMs: at("2026-05-01T00:15:00Z") }).map(iso),
    ["2026-05-01T00:05:00Z", "2026-05-01T00:10:00Z"],
  );
  assertEquals(nextFireTimes(cron, start, { limit: 0 }), []);
});

Deno.test("isFireTime() recognises fire times of both kinds", () => {
  const s = interval(60_000, 7_000);
  const start = at("2026-05-01T00:00:00Z");
  assert(isFireTime(s, start + 7_000));
  assert(isFireTime(s, start - 53_000));
  assert(!isFireTime(s, start + 7_001));
  assert(!isFireTime(s, start));

  const cron = parseSchedule("30 2 * * *", { timezone: "America/New_York", key: "a" });
  assert(isFireTime(cron, at("2026-03-07T07:30:00Z")));
  assert(!isFireTime(cron, at("2026-03-07T07:30:00.001Z")));
  assert(isFireTime(cron, at("2026-03-08T07:00:00Z"))); // 02:30 skipped: 03:00 EDT instead
  assert(!isFireTime(cron, at("2026-03-08T07:30:00Z")));
  const late = parseSchedule("30 1 * * *", { timezone: "America/New_York", key: "a" });
  assert(isFireTime(late, at("2026-11-01T05:30:00Z")));
  assert(!isFireTime(late, at("2026-11-01T06:30:00Z"))); // the repeated 01:30 EST
});

Deno.test("countFireTimes() counts in the open interval and stops at the cap", () => {
  const start = at("2026-05-01T00:00:00Z");
  const s = interval(60_000, 0);
  assertEquals(countFireTimes(s, start, start + 3_600_000, 1000), 59);
  assertEquals(countFireTimes(s, start - 1, start + 3_600_001, 1000), 61);
  assertEquals(countFireTimes(s, start, start + 3_600_000, 10), 10);
  assertEquals(countFireTimes(s, start, start, 10), 0);
  assertEquals(countFireTimes(interval(1000, 0), 0, 365 * 86_400_000, Infinity), 365 * 86_400 - 1);
  const cron = parseSchedule("*/15 * * * *", { timezone: "America/New_York", key: "a" });
  assertEquals(countFireTimes(cron, start, start + 3_600_000, 100), 3);
  // 25 real hours on the fall-back day: every quarter hour of each.
  const day = countFireTimes(cron, at("2026-11-01T03:59:59Z"), at("2026-11-02T05:00:00Z"), 1000);
  assertEquals(day, 100);
  assertEquals(countFireTimes(cron, at("2026-11-01T03:59:59Z"), at("2026-11-02T05:00:00Z"), 7), 7);
});

// --- daylight saving time -------------------------------------------------------------------

Deno.test("nextFireTimes() fires a skipped spring-forward time once at the next valid instant", () => {
  assertEquals(fires("30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z", 4), [
    "2026-03-07T07:30:00Z", // 02:30 EST
    "2026-03-08T07:00:00Z", // 02:30 does not exist: 03:00 EDT
    "2026-03-09T06:30:00Z", // 02:30 EDT
    "2026-03-10T06:30:00Z",
  ]);
  assertEquals(fires("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", 3), [
    "2026-03-28T01:30:00Z",
    "2026-03-29T01:00:00Z", // 03:00 CEST
    "2026-03-30T00:30:00Z",
  ]);
  // Two skipped times and a real one meeting at the end of the gap fire once.
  assertEquals(fires("0,30 2,3 * * *", "America/New_York", "2026-03-08T06:00:00Z", 3), [
    "2026-03-08T07:00:00Z",
    "2026-03-08T07:30:00Z",
    "2026-03-09T06:00:00Z",
  ]);
});

Deno.test("nextFireTimes() fires a repeated fall-back time once, at the first occurrence", () => {
  assertEquals(fires("30 1 * * *", "America/New_York", "2026-10-31T00:00:00Z", 3), [
    "2026-10-31T05:30:00Z",
    "2026-11-01T05:30:00Z", // 01:30 EDT; not again at 01:30 EST (06:30Z)
    "2026-11-02T06:30:00Z",
  ]);
  assertEquals(fires("30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", 1), [
    "2026-11-02T06:30:00Z",
  ]);
  // Asked from inside the second pass, the repeated time is still not given again.
  assertEquals(fires("30 1 * * *", "America/New_York", "2026-11-01T06:10:00Z", 1), [
    "2026-11-02T06:30:00Z",
  ]);
  assertEquals(fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2), [
    "2026-10-25T00:30:00Z", // 02:30 CEST; not again at 02:30 CET (01:30Z)
    "2026-10-26T01:30:00Z",
  ]);
  // A list of single hours is a fixed-time schedule too.
  assertEquals(fires("30 1,13 * * *", "America/New_York", "2026-10-31T12:00:00Z", 3), [
    "2026-10-31T17:30:00Z",
    "2026-11-01T05:30:00Z",
    "2026-11-01T18:30:00Z",
  ]);
});

Deno.test("nextFireTimes() keeps hourly and frequent schedules on real time through DST", () => {
  // Fall back: 01:00 EDT (05:00Z) and 01:00 EST (06:00Z) both fire.
  assertEquals(fires("0 * * * *", "America/New_York", "2026-11-01T03:30:00Z", 5), [
    "2026-11-01T04:00:00Z",
    "2026-11-01T05:00:00Z",
    "2026-11-01T06:00:00Z",
    "2026-11-01T07:00:00Z",
    "2026-11-01T08:00:00Z",
  ]);
  assertEquals(fires("*/15 * * * *", "America/New_York", "2026-11-01T05:40:00Z", 5), [
    "2026-11-01T05:45:00Z",
    "2026-11-01T06:00:00Z",
    "2026-11-01T06:15:00Z",
    "2026-11-01T06:30:00Z",
    "2026-11-01T06:45:00Z",
  ]);
  // Spring forward: the missing hour is skipped, the schedule stays an hour apart in real time.
  assertEquals(fires("0 * * * *", "America/New_York", "2026-03-08T05:30:00Z", 3), [
    "2026-03-08T06:00:00Z", // 01:00 EST
    "2026-03-08T07:00:00Z", // 03:00 EDT
    "2026-03-08T08:00:00Z",
  ]);
  assertEquals(fires("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:40:00Z", 3), [
    "2026-03-29T00:45:00Z", // 01:45 CET
    "2026-03-29T01:00:00Z", // 03:00 CEST
    "2026-03-29T01:15:00Z",
  ]);
  // A wildcard hour with a fixed minute in the repeated hour fires on both passes.
  assertEquals(fires("30 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", 3), [
    "2026-10-25T00:30:00Z", // 02:30 CEST
    "2026-10-25T01:30:00Z", // 02:30 CET
    "2026-10-25T02:30:00Z",
  ]);
});

Deno.test("nextFireTimes() handles Lord Howe's 30-minute DST shift", () => {
  // DST ends 2026-04-05 02:00 (+11) → 01:30 (+10:30); starts 2026-10-04 02:00 → 02:30.
  assertEquals(fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-03T12:00:00Z", 3), [
    "2026-04-03T14:45:00Z",
    "2026-04-04T14:45:00Z", // 01:45 +11, not again at 01:45 +10:30
    "2026-04-05T15:15:00Z",
  ]);
  assertEquals(fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-02T12:00:00Z", 3), [
    "2026-10-02T15:45:00Z",
    "2026-10-03T15:30:00Z", // 02:15 skipped: 02:30 +11
    "2026-10-04T15:15:00Z",
  ]);
  assertEquals(fires("*/30 * * * *", "Australia/Lord_Howe", "2026-04-04T14:00:00Z", 4), [
    "2026-04-04T14:30:00Z", // 01:30 +11
    "2026-04-04T15:00:00Z", // 01:30 +10:30
    "2026-04-04T15:30:00Z", // 02:00 +10:30
    "2026-04-04T16:00:00Z",
  ]);
});

Deno.test("nextFireTimes() has no DST surprises in Asia/Tokyo", () => {
  assertEquals(fires("30 2 * * *", "Asia/Tokyo", "2026-03-07T00:00:00Z", 3), [
    "2026-03-07T17:30:00Z",
    "2026-03-08T17:30:00Z",
    "2026-03-09T17:30:00Z",
  ]);
  assertEquals(fires("0 0 1 1 *", "Asia/Tokyo", "2026-06-01T00:00:00Z", 2), [
    "2026-12-31T15:00:00Z",
    "2027-12-31T15:00:00Z",
  ]);
});

// --- against croner -------------------------------------------------------------------------

Deno.test("nextFireTimes() agrees with croner 11 across zones and DST transitions", () => {
  let seed = 12345;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pick = (options: string[]) => options[random(options.length)];
  const zones = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tokyo"];
  const froms = [
    "2026-03-07T20:00:00Z",
    "2026-03-28T20:00:00Z",
    "2026-04-04T10:00:00Z",
    "2026-10-03T10:00:00Z",
    "2026-10-24T20:00:00Z",
    "2026-10-31T20:00:00Z",
    "2027-01-15T00:00:00Z",
  ];
  let compared = 0;
  for (let i = 0; i < 300; i++) {
    const fields = [
      pick(["0", "30", "0,30", "*/15", "5-10", "*"]),
      pick(["*", "*/2", "1", "2", "1,13", "9-17", "2-3", "0-23/6"]),
      pick(["*", "*", "1", "15", "L", "1,15", "31", "?"]),
      pick(["*", "*", "3", "10,11", "*/3", "JAN-MAR", "4"]),
      pick(["*", "*", "MON", "1-5", "FRI#2", "SUN", "6L", "?"]),
    ];
    if (random(4) === 0) fields.unshift(pick(["0", "*/20", "15,45"]));
    const expression = fields.join(" ");
    const timezone = pick(zones);
    const from = at(pick(froms));
    const reference = new Cron(expression, {
      timezone,
      paused: true,
      fixedTimeRule: "no-wildcard",
      domAndDow: false,
    });
    const expected = reference.nextRuns(12, new Date(from)).map((d) => iso(d.getTime()));
    let schedule: Schedule;
    try {
      schedule = parseSchedule(expression, { timezone, key: "a" });
    } catch (error) {
      // Such as "30 9 31 4 *": croner finds nothing either.
      assert(error instanceof ScheduleError && error.message.startsWith("Schedule never fires"));
      assertEquals(expected, []);
      continue;
    }
    const actual = nextFireTimes(schedule, from, { limit: 12 }).map(iso);
    assertEquals(actual, expected, `${expression} in ${timezone} after ${iso(from)}`);
    compared += expected.length;
  }
  assert(compared > 2000);
});

// --- performance ----------------------------------------------------------------------------

Deno.test("nextFireTimes() answers 5,000 distinct cron jobs well within 100 ms", () => {
  const zones = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Lord_Howe"];
  const schedules: Schedule[] = [];
  for (let i = 0; i < 5000; i++) {
    schedules.push(
      parseSchedule(`${i % 60} ${i % 24} * * ${i % 3 ? "*" : i % 7}`, {
        timezone: zones[i % zones.length],
        key: `job-${i}`,
      }),
    );
  }
  const now = at("2026-05-01T00:00:30Z");
  const run = () => {
    const started = performance.now();
    for (const schedule of schedules) nextFireTimes(schedule, now, { limit: 2 });
    return performance.now() - started;
  };
  run(); // warm the zone caches, as a running scheduler has
  const elapsed = Math.min(run(), run(), run());
  console.log(`5,000 × nextFireTimes(limit 2): ${elapsed.toFixed(1)} ms`);
  assert(elapsed < 100, `took ${elapsed.toFixed(1)} ms`);
});
