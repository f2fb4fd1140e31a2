/**
 * Daylight saving time: a cron schedule's wall-clock matches turned into real instants in a
 * zone, by the rules of Vixie cron (as croner ≥ 10 and croner-rust apply them).
 *
 * A schedule is a *fixed-time* schedule when its second, minute and hour fields hold no `*`,
 * `?` or `/` (`30 2 * * *`, `0 30 1,13 * * *`, `0 9-17 * * 1-5`); otherwise it is an
 * *interval* schedule (`* * * * *`, `*\/15 * * * *`, `0 * * * *`, `0 *\/2 * * *`).
 *
 * - Spring forward, a wall-clock time that does not exist: a fixed-time schedule fires once, at
 *   the first instant after the gap (`30 2 * * *` in America/New_York on 2026-03-08 fires at
 *   03:00 EDT = 07:00Z). An interval schedule skips the missing times (`0 * * * *` fires at
 *   01:00 EST and then 03:00 EDT, one real hour apart).
 * - Fall back, a wall-clock time that occurs twice: a fixed-time schedule fires once, at the
 *   first occurrence (`30 1 * * *` on 2026-11-01 fires at 01:30 EDT = 05:30Z only). An interval
 *   schedule fires on both passes, so it keeps running on real elapsed time through the repeated
 *   hour (`*\/15 * * * *` fires every 15 real minutes, `0 * * * *` every real hour).
 * - Fire times are always returned in ascending real time: the whole first pass through a
 *   repeated hour comes before the second.
 *
 * croner 9 got both rules wrong (it fired skipped times 30 minutes late and dropped the second
 * pass of hourly jobs); schedule.ts says why croner 11 is not used in its place.
 */
import { type CompiledCron, nextWallMatch } from "./cron.ts";
import { YEAR } from "./units.ts";
import type { Segment, Zone } from "./zone.ts";

/** How far one search looks ahead: covers `0 0 29 2 *` across a non-leap century year. */
const SEARCH_SPAN = 9 * YEAR;

/** The first fire time strictly after `afterMs`, applying the rules above. */
export function nextCronTime(cron: CompiledCron, zone: Zone, afterMs: number): number | null {
  let t = afterMs;
  let segment = zone.segmentAt(t);
  // Each pass either answers or moves to the next offset segment (about two a year).
  for (let pass = 0; pass < 64; pass++) {
    const offset = segment.offset;
    const wall = nextWallMatch(cron, t + offset, t + offset + SEARCH_SPAN);
    if (wall === null) return null;
    const instant = wall - offset;
    // Coverage of the zone grows a week at a time; an extension with the same offset lengthens
    // this segment in place, so only a different segment is a real transition.
    while (instant >= segment.end && zone.segmentAt(segment.end) === segment);
    if (instant < segment.end) {
      if (cron.fixed && isSecondPass(zone, segment, wall)) {
        t = instant;
        continue;
      }
      return instant;
    }
    const following = zone.segmentAt(segment.end);
    // Spring forward: wall times [end + offset, end + following.offset) never happen.
    if (cron.fixed && wall < segment.end + following.offset) return segment.end;
    t = segment.end - 1;
    segment = following;
  }
  return null;
}

/** True when `wall` in `segment` repeats a wall-clock time already passed before a fall-back. */
function isSecondPass(zone: Zone, segment: Segment, wall: number): boolean {
  const previous = zone.segmentAt(segment.start - 1);
  return previous.offset > segment.offset && wall < segment.start + previous.offset;
}
