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
import { assertEquals, at, fires, interval, iso } from "./test_support.ts";

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

Deno.test("a shifted schedule fires its shift after each time, in real time across DST", () => {
  // 09:00 New York: 14:00Z in EST, 13:00Z once the clocks spring forward on 8 March 2026.
  const shifted = parseSchedule("0 9 * * *", {
    timezone: "America/New_York",
    key: "a",
    shiftMs: 300_000,
  });
  assertEquals(nextFireTimes(shifted, at("2026-03-07T00:00:00Z"), { limit: 2 }).map(iso), [
    "2026-03-07T14:05:00Z",
    "2026-03-08T13:05:00Z",
  ]);
  // A fire exactly at the shift's end counts; one a millisecond earlier is not a fire time.
  assert(isFireTime(shifted, at("2026-03-08T13:05:00Z")));
  assert(!isFireTime(shifted, at("2026-03-08T13:04:59.999Z")));
  assert(!isFireTime(shifted, at("2026-03-08T13:00:00Z")));
  assertEquals(
    nextFireTimes(shifted, at("2026-03-08T13:04:59.999Z"), { limit: 1 }).map(iso),
    ["2026-03-08T13:05:00Z"],
  );
  assertEquals(
    nextFireTimes(shifted, at("2026-03-08T13:05:00Z"), { limit: 1 }).map(iso),
    ["2026-03-09T13:05:00Z"],
  );
  assertEquals(
    countFireTimes(shifted, at("2026-03-07T14:05:00Z"), at("2026-03-09T13:05:00Z"), 9),
    1,
  );
  const every = parseSchedule("@every 1h", { key: "a", shiftMs: 90_000 });
  const plain = parseSchedule("@every 1h", { key: "a" });
  const start = at("2026-05-01T00:00:00Z");
  assertEquals(
    nextFireTimes(every, start, { limit: 2 }),
    nextFireTimes(plain, start - 90_000, { limit: 2 }).map((t) => t + 90_000),
  );
  assert.throws(() => parseSchedule("@every 1h", { key: "a", shiftMs: -1 }), RangeError);
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
