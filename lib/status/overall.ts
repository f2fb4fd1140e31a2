/**
 * A status page's overall state from its jobs' states. Paused jobs and jobs not yet checked
 * (`pending`) count for nothing; of the rest: any `down` is a partial outage, all of them down
 * a major one; otherwise any `degraded` is degraded, any in `maintenance` is maintenance, and
 * else all is operational (so too for a page with nothing watched).
 */
import type { AlertState } from "../alerts/types.ts";

export const OVERALL_STATES = [
  "operational",
  "degraded",
  "partial_outage",
  "major_outage",
  "maintenance",
] as const;
export type OverallState = (typeof OVERALL_STATES)[number];

export function overallState(states: readonly AlertState[]): OverallState {
  const watched = states.filter((s) => s !== "paused" && s !== "pending");
  const down = watched.filter((s) => s === "down").length;
  if (down > 0) return down === watched.length ? "major_outage" : "partial_outage";
  if (watched.includes("degraded")) return "degraded";
  if (watched.includes("maintenance")) return "maintenance";
  return "operational";
}
