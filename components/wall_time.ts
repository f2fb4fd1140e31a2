/**
 * Wall clock times in a zone and the instants they stand for, both ways: the maintenance form's
 * start and end (`datetime-local` inputs) in the viewer's zone, on the server and in the island.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset (ms) of `timeZone` at `at`; throws RangeError for an unknown zone. */
function offsetAt(at: number, timeZone: string): number {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(at)) parts[part.type] = Number(part.value);
  const wall = Date.UTC(
    parts.year,
    parts.month - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  );
  return wall - Math.floor(at / 1000) * 1000;
}

/** `2026-03-29T01:00`: the wall clock in `timeZone` at `at`, as a datetime-local input holds it. */
export function wallTimeInZone(at: number, timeZone: string): string {
  return new Date(at + offsetAt(at, timeZone)).toISOString().slice(0, 16);
}

/**
 * The instant at which the wall clock in `timeZone` shows `wall` (`2026-03-29T01:00`, seconds
 * optional); null when `wall` is not such a time. A time that daylight saving skips is moved
 * on by the gap (02:30 on a spring-forward night is 03:30), a time it repeats is its first pass,
 * as Temporal's "compatible" reading does. Throws RangeError for an unknown zone.
 */
export function instantOfWallTime(wall: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0));
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-30 over into March: such a date is not one.
  if (
    new Date(wallMs).toISOString().slice(0, 19) !==
      `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? "00"}`
  ) {
    return null;
  }
  // Offsets a day either side: a transition between them is the only way the two differ.
  const before = offsetAt(wallMs - 86_400_000, timeZone);
  const after = offsetAt(wallMs + 86_400_000, timeZone);
  const passes = [wallMs - before, wallMs - after].filter((at) =>
    at + offsetAt(at, timeZone) === wallMs
  );
  return passes.length > 0 ? Math.min(...passes) : wallMs - before;
}
