/**
 * What every channel type says, before it is dressed in that service's format: the headline,
 * and per job its state, cause, timing, failed locations and the link to its admin page; for
 * a certificate warning, the certificate's subject, days left, end of validity and issuer. The
 * renderers (slack.ts, telegram.ts, …) only lay these out and keep within their limits.
 */
import type {
  AlertMessage,
  AlertMessageItem,
  CertificateMessage,
  IncidentMessage,
} from "../types.ts";

/** The facts of one job in a message, as plain text. */
export interface ItemFacts {
  /** `🔴`, `✅` or `🧪`. */
  symbol: string;
  /** The job's name on one line. */
  name: string;
  /** `down`, `still down`, `up again`, `sample`. */
  state: string;
  /** Whether this item tells of a recovery. */
  resolved: boolean;
  cause: string;
  /** `since 2026-03-02 12:00:05 UTC (5 min)` or `down 12 min, 12:00:05 – 12:12:10 UTC`. */
  timing: string;
  /** Failed locations, comma-separated; "" when none recorded. */
  locations: string;
  /** The job's admin page (the admin home for a test). */
  link: string;
}

const MAX_NAME = 200;
const MAX_CAUSE = 500;

/** `https://hibiki.example.com/admin/jobs/<id>`. */
export function adminJobUrl(baseUrl: string, jobId: string): string {
  return `${baseUrl}/admin/jobs/${encodeURIComponent(jobId)}`;
}

/** Where a message's item links: its job's admin page; a test's sample job has none. */
export function itemLink(message: IncidentMessage, item: AlertMessageItem): string {
  return message.kind === "test"
    ? `${message.baseUrl}/admin`
    : adminJobUrl(message.baseUrl, item.job.id);
}

/** Whether the item tells of a recovery (its incident resolved). */
export function isResolved(item: AlertMessageItem): boolean {
  return item.incident.state === "resolved";
}

/** `45 s`, `5 min`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** `2026-03-02 12:00:05 UTC` from an ISO 8601 time. */
export function formatTime(iso: string): string {
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

/** On one line, at most `max` characters (an ellipsis marks a cut). */
export function oneLine(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max);
}

/** At most `max` characters (UTF-16 units), an ellipsis marking a cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair: half an emoji is not valid text for any of the services.
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? "")) end--;
  return text.slice(0, end) + "…";
}

/** Everything said of one item, as plain text. */
export function itemFacts(
  message: IncidentMessage,
  item: AlertMessageItem,
  now: number,
): ItemFacts {
  const { incident } = item;
  const resolved = isResolved(item);
  const test = message.kind === "test";
  const started = formatTime(incident.startedAt);
  let timing: string;
  if (resolved && incident.endedAt) {
    const duration = incident.durationMs ?? Date.parse(incident.endedAt) -
        Date.parse(incident.startedAt);
    timing = `down ${formatDuration(duration)}, ${started} – ${formatTime(incident.endedAt)}`;
  } else {
    timing = `since ${started} (${formatDuration(now - Date.parse(incident.startedAt))})`;
  }
  return {
    symbol: test ? "🧪" : resolved ? "✅" : "🔴",
    name: oneLine(item.job.name, MAX_NAME),
    state: test
      ? "sample"
      : resolved
      ? "up again"
      : message.kind === "incident.reminder"
      ? "still down"
      : "down",
    resolved,
    cause: truncate(incident.cause.trim(), MAX_CAUSE),
    timing,
    locations: incident.locations.join(", "),
    link: itemLink(message, item),
  };
}

/** The one-line summary of a whole message: a title, a notification's first line. */
export function headline(message: AlertMessage): string {
  if (message.kind === "certificate.expiring") return certificateFacts(message).headline;
  const { items } = message;
  if (message.kind === "test") return "🧪 Test notification from Hibiki";
  if (message.kind === "incidents.grouped" || items.length !== 1) {
    const up = items.filter(isResolved).length;
    const down = items.length - up;
    const parts: string[] = [];
    if (down) parts.push(`${down} ${down === 1 ? "job" : "jobs"} down`);
    if (up) parts.push(`${up} ${up === 1 ? "job" : "jobs"} up again`);
    return `${down ? "🔴" : "✅"} ${parts.join(", ") || "No jobs changed"}`;
  }
  const item = items[0];
  const name = oneLine(item.job.name, MAX_NAME);
  if (isResolved(item)) return `✅ Up again: ${name}`;
  return message.kind === "incident.reminder" ? `🔴 Still down: ${name}` : `🔴 Down: ${name}`;
}

/** The facts of a certificate warning, as plain text. */
export interface CertificateFacts {
  /** `⚠️ Certificate expires in 10 days: Shop`. */
  headline: string;
  symbol: string;
  /** The job's name on one line. */
  name: string;
  /** `10 days`, `1 day`, `less than a day`. */
  left: string;
  /** `2026-03-12 00:00:00 UTC`. */
  validTo: string;
  subject: string;
  issuer: string;
  /** The job's admin page. */
  link: string;
}

/** Everything a certificate warning says, as plain text. */
export function certificateFacts(message: CertificateMessage): CertificateFacts {
  const { certificate } = message;
  const name = oneLine(message.job.name, MAX_NAME);
  const days = certificate.daysLeft;
  const left = days <= 0 ? "less than a day" : days === 1 ? "1 day" : `${days} days`;
  return {
    headline: `⚠️ Certificate expires in ${left}: ${name}`,
    symbol: "⚠️",
    name,
    left,
    validTo: formatTime(certificate.validTo),
    subject: oneLine(certificate.subject, MAX_CAUSE),
    issuer: oneLine(certificate.issuer, MAX_CAUSE),
    link: adminJobUrl(message.baseUrl, message.job.id),
  };
}

/** What a test says on top of its sample, so nobody takes it for an outage. */
export const TEST_NOTE =
  "This is a test sent from Hibiki to check this channel. Nothing is down; the job below is a sample.";

/**
 * Joins `blocks` with `separator` while they fit in `budget` (as `measure` counts); the ones
 * left over are named by `more(n)`, which is always given room.
 */
export function fitBlocks(
  blocks: string[],
  options: {
    budget: number;
    separator: string;
    more: (left: number) => string;
    measure?: (text: string) => number;
  },
): string {
  const measure = options.measure ?? ((text: string) => text.length);
  const kept: string[] = [];
  let used = 0;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i];
    const cost = measure(block) + (kept.length ? measure(options.separator) : 0);
    const left = blocks.length - i - 1;
    const tail = left ? measure(options.separator) + measure(options.more(left)) : 0;
    if (used + cost + tail > options.budget) {
      const note = options.more(blocks.length - i);
      return kept.length ? kept.join(options.separator) + options.separator + note : note;
    }
    kept.push(block);
    used += cost;
  }
  return kept.join(options.separator);
}

/** UTF-8 bytes, for services whose limits count bytes. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** `&`, `<`, `>` and `"` as HTML entities (Telegram's HTML and e-mail bodies). */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
