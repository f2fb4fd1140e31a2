/**
 * Times as people read them on the admin pages: "3 minutes ago" in the page's language, and on
 * hover the exact time on the viewer's wall clock, then in UTC. The same text on the server
 * and in the islands (the relative words come from Intl.RelativeTimeFormat).
 */
import type { Lang } from "../lib/i18n/i18n.ts";
import { formatTime } from "./format.ts";
import { formatInZone } from "./zone_time.ts";

/** The cookie that tells the server the viewer's zone (set in islands/hydrate.ts). */
export const ZONE_COOKIE = "hibiki_tz";

/** Largest first, in seconds: the first unit the distance fills at least once is the one said. */
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 31_536_000],
  ["month", 2_592_000],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

const formats = new Map<Lang, Intl.RelativeTimeFormat>();

/** `3 minutes ago`, `in 5 minutes`, `now` (ja: `3 分前`, `5 分後`, `今`). */
export function relativeTime(at: number, now: number, lang: Lang): string {
  let format = formats.get(lang);
  if (!format) {
    format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    formats.set(lang, format);
  }
  const seconds = (at - now) / 1000;
  const distance = Math.abs(seconds);
  const [unit, size] = UNITS.find(([, size]) => distance >= size) ?? ["second", 1];
  // Under ten seconds is "now": a clock a few seconds off should not say "in 3 seconds".
  return format.format(distance < 10 ? 0 : Math.sign(seconds) * Math.round(distance / size), unit);
}

/**
 * The hover text of a time: the wall clock in `zone` with its offset and name, then UTC; UTC
 * alone while the viewer's zone is not known (or is UTC).
 */
export function timeTitle(at: number, zone: string | null): string {
  const utc = `${formatTime(at)} UTC`;
  if (!zone || zone === "UTC") return utc;
  return `${formatInZone(at, zone)} (${zone})\n${utc}`;
}

/** The zone this runtime's clock is in (called by islands, in the browser). */
export function browserZone(): string | null {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
}
