/**
 * Shields-style SVG badges of a status page: its overall state, a job's state, or a job's
 * uptime over the page's 90 days. Drawn by `badge-maker`, shields.io's own library, which
 * measures the text (Verdana widths) and escapes it.
 */
import { makeBadge } from "badge-maker";
import type { AlertState } from "../lib/alerts/types.ts";
import type { OverallState } from "../lib/status/overall.ts";
import { hundredths } from "./status_page.tsx";

/** Badge colours (shields' palette): green, yellow-green, yellow, orange, red, blue, grey. */
export const BADGE_COLOURS = {
  ok: "#4c1",
  minor: "#a4a61d",
  partial: "#dfb317",
  outage: "#fe7d37",
  major: "#e05d44",
  maintenance: "#007ec6",
  none: "#9f9f9f",
} as const;

const OVERALL: Record<OverallState, [string, string]> = {
  operational: ["operational", BADGE_COLOURS.ok],
  degraded: ["degraded", BADGE_COLOURS.partial],
  partial_outage: ["partial outage", BADGE_COLOURS.outage],
  major_outage: ["major outage", BADGE_COLOURS.major],
  maintenance: ["maintenance", BADGE_COLOURS.maintenance],
};

const STATES: Record<AlertState, [string, string]> = {
  up: ["up", BADGE_COLOURS.ok],
  degraded: ["degraded", BADGE_COLOURS.partial],
  down: ["down", BADGE_COLOURS.major],
  maintenance: ["maintenance", BADGE_COLOURS.maintenance],
  paused: ["paused", BADGE_COLOURS.none],
  pending: ["pending", BADGE_COLOURS.none],
};

export function overallBadge(state: OverallState): string {
  const [message, color] = OVERALL[state];
  return makeBadge({ label: "status", message, color });
}

export function stateBadge(label: string, state: AlertState): string {
  const [message, color] = STATES[state];
  return makeBadge({ label, message, color });
}

/** Uptime to the hundredth, never rounded up; coloured by the status page's day bands. */
export function uptimeBadge(label: string, uptime: number | null): string {
  if (uptime === null) return makeBadge({ label, message: "no data", color: BADGE_COLOURS.none });
  const message = uptime >= 1 ? "100%" : hundredths(uptime);
  const color = uptime >= 0.999
    ? BADGE_COLOURS.ok
    : uptime >= 0.99
    ? BADGE_COLOURS.minor
    : uptime >= 0.95
    ? BADGE_COLOURS.partial
    : BADGE_COLOURS.major;
  return makeBadge({ label, message, color });
}

export function notFoundBadge(): string {
  return makeBadge({ label: "status", message: "not found", color: BADGE_COLOURS.none });
}
