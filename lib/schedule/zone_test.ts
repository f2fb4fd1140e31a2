import { parseSchedule } from "./schedule.ts";
import { assertEquals, fires, scheduleError } from "./test_support.ts";

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
