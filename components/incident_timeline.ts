/**
 * An incident's story in time order, built from its record and its notifications' records:
 * opened, each notification queued and each attempt to send it (delivered or failed, with what
 * the receiver said), acknowledged, the operator's updates, resolved. Pure, so the order and
 * wording are tested without a page (incident_timeline_test.ts).
 */
import type { IncidentDetail } from "../lib/alerts/incidents.ts";

export type TimelineEvent =
  | { kind: "opened"; at: string; cause: string; locations: string[] }
  | {
    kind: "queued";
    at: string;
    channelId: string;
    notification: string;
    /** Set when it waits (escalation): not sent before this. */
    waitsUntil: string | null;
  }
  | {
    kind: "sent" | "failed";
    at: string;
    channelId: string;
    notification: string;
    attempt: number;
    status: number;
    durationMs: number;
    error: string | null;
    response: string;
  }
  | { kind: "acknowledged"; at: string; by: string }
  | { kind: "update"; at: string; message: string }
  | { kind: "resolved"; at: string; durationMs: number | null };

/** Order among events at the same instant: a change first, then the messages telling of it. */
const RANK: Record<TimelineEvent["kind"], number> = {
  opened: 0,
  acknowledged: 1,
  update: 2,
  resolved: 3,
  queued: 4,
  sent: 5,
  failed: 5,
};

export function incidentTimeline(incident: IncidentDetail): TimelineEvent[] {
  const events: TimelineEvent[] = [{
    kind: "opened",
    at: incident.startedAt,
    cause: incident.cause,
    locations: incident.locations,
  }];
  for (const n of incident.notifications) {
    const waits = n.state === "pending" && n.attempts.length === 0 && n.nextAttemptAt !== null &&
        n.nextAttemptAt > Date.parse(n.createdAt)
      ? new Date(n.nextAttemptAt).toISOString()
      : null;
    events.push({
      kind: "queued",
      at: n.createdAt,
      channelId: n.channelId,
      notification: n.kind,
      waitsUntil: waits,
    });
    for (const attempt of n.attempts) {
      events.push({
        kind: attempt.success ? "sent" : "failed",
        at: attempt.at,
        channelId: n.channelId,
        notification: n.kind,
        attempt: attempt.n,
        status: attempt.status,
        durationMs: attempt.durationMs,
        error: attempt.error,
        response: attempt.response,
      });
    }
  }
  if (incident.acknowledgedAt !== null) {
    events.push({
      kind: "acknowledged",
      at: incident.acknowledgedAt,
      by: incident.acknowledgedBy ?? "",
    });
  }
  for (const update of incident.updates) {
    events.push({ kind: "update", at: update.at, message: update.message });
  }
  if (incident.endedAt !== null) {
    events.push({ kind: "resolved", at: incident.endedAt, durationMs: incident.durationMs });
  }
  // A stable sort keeps each notification's attempts in the order they were made.
  return events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || RANK[a.kind] - RANK[b.kind]);
}
