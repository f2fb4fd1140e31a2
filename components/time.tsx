/**
 * `<Time at={…} clock={…} />`: a time as "3 minutes ago", with the exact time on hover
 * (relative_time.ts). The clock (language, "now", the viewer's zone) is a prop: islands hold
 * their own and move "now" on as they refresh; server pages take the page's (page_clock.tsx).
 */
import type { Lang } from "../lib/i18n/i18n.ts";
import { browserZone, relativeTime, timeTitle } from "./relative_time.ts";

export interface PageClock {
  lang: Lang;
  /** The instant the page (or the island's latest refresh) counts from, in ms. */
  now: number;
  /** The viewer's IANA zone, once a page script has told it (cookie); else null. */
  zone: string | null;
}

/** An island's clock once in the browser: the browser's time and zone, the page's language. */
export function browserClock(page: PageClock, now = Date.now()): PageClock {
  return { lang: page.lang, now, zone: browserZone() };
}

export interface TimeProps {
  /** An ISO string or ms since the epoch; null (or not a time) shows a dash and nothing else. */
  at: string | number | null;
  clock: PageClock;
}

export function Time({ at, clock }: TimeProps) {
  const ms = instant(at);
  if (ms === null) return <>—</>;
  return (
    <time datetime={new Date(ms).toISOString()} title={timeTitle(ms, clock.zone)}>
      {relativeTime(ms, clock.now, clock.lang)}
    </time>
  );
}

/** Ms since the epoch, or null for no time (or text that is not one). */
export function instant(at: string | number | null): number | null {
  const ms = typeof at === "string" ? Date.parse(at) : at;
  return ms === null || Number.isNaN(ms) ? null : ms;
}
