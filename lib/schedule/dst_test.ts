import { assertEquals, fires } from "./test_support.ts";

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
