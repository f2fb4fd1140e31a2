/**
 * An incident's length as people say it: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`. Two units at
 * most, since nobody reads "2 d 4 h 13 min 9 s" on a page of incidents; shared by the pages and
 * the live duration island, so both say the same.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  const whole = Math.max(0, Math.floor(ms));
  if (whole < MINUTE) return `${Math.floor(whole / SECOND)} s`;
  if (whole < HOUR) return `${Math.floor(whole / MINUTE)} min`;
  if (whole < DAY) {
    const minutes = Math.floor((whole % HOUR) / MINUTE);
    return `${Math.floor(whole / HOUR)} h ${String(minutes).padStart(2, "0")} min`;
  }
  return `${Math.floor(whole / DAY)} d ${Math.floor((whole % DAY) / HOUR)} h`;
}
