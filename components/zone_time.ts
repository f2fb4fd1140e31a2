/**
 * A time as a wall clock in some zone shows it. Apart from format.ts so only the pages that
 * need it (the job form, times' hover text) load it.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

/** `2026-11-24 09:00:00 +09:00`: a time as the clock on the wall in `timeZone` shows it. */
export function formatInZone(at: number, timeZone: string): string {
  // Building a DateTimeFormat costs far more than using one: a page of times shares one.
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "longOffset",
    });
    formats.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(at)) parts[part.type] = part.value;
  const offset = parts.timeZoneName === "GMT" ? "+00:00" : parts.timeZoneName.replace("GMT", "");
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
}
