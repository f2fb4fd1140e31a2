import { parseSchedule } from "./schedule.ts";
import { assertEquals, fires, scheduleError } from "./test_support.ts";

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
