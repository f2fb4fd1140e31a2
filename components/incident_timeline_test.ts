import assert from "node:assert/strict";
import type { IncidentDetail } from "../lib/alerts/incidents.ts";
import type { Notification } from "../lib/alerts/types.ts";
import { incidentTimeline } from "./incident_timeline.ts";

const at = (minute: number, second = 0) =>
  new Date(Date.UTC(2026, 2, 2, 12, minute, second)).toISOString();

function notification(fields: Partial<Notification>): Notification {
  return {
    id: "ntf_1",
    userId: "default",
    channelId: "ch_ops",
    kind: "incident.opened",
    incidentIds: ["inc_1"],
    state: "pending",
    nextAttemptAt: null,
    attempts: [],
    createdAt: at(4),
    ...fields,
  };
}

const INCIDENT: IncidentDetail = {
  id: "inc_1",
  userId: "default",
  jobId: "job_1",
  state: "resolved",
  kind: "down",
  startedAt: at(2),
  endedAt: at(9),
  durationMs: 7 * 60_000,
  cause: "Expected status 2xx, got 503",
  runIds: ["r1"],
  locations: ["local"],
  acknowledgedAt: at(6),
  acknowledgedBy: "default",
  updates: [{ at: at(7), message: "Rolled back the deploy" }],
  notificationIds: ["ntf_1", "ntf_2", "ntf_3"],
  notifications: [
    notification({
      state: "sent",
      attempts: [
        {
          n: 1,
          at: at(4, 1),
          status: 500,
          durationMs: 40,
          success: false,
          error: "Receiver answered 500",
          response: "busy",
        },
        { n: 2, at: at(5), status: 200, durationMs: 12, success: true, error: null, response: "" },
      ],
    }),
    notification({
      id: "ntf_2",
      channelId: "ch_boss",
      state: "cancelled",
      nextAttemptAt: null,
    }),
    notification({
      id: "ntf_3",
      channelId: "ch_pager",
      nextAttemptAt: Date.parse(at(34)),
    }),
  ],
};

Deno.test("incidentTimeline() tells an incident in time order, attempts and all", () => {
  const events = incidentTimeline(INCIDENT);
  assert.deepEqual(
    events.map((e) => `${e.at.slice(14, 19)} ${e.kind}`),
    [
      "02:00 opened",
      "04:00 queued",
      "04:00 queued",
      "04:00 queued",
      "04:01 failed",
      "05:00 sent",
      "06:00 acknowledged",
      "07:00 update",
      "09:00 resolved",
    ],
  );
  const failed = events.find((e) => e.kind === "failed");
  assert.ok(failed?.kind === "failed");
  assert.equal(failed.attempt, 1);
  assert.equal(failed.status, 500);
  assert.equal(failed.error, "Receiver answered 500");
  // Only an escalation still waiting says until when.
  const waiting = events.filter((e) => e.kind === "queued" && e.waitsUntil !== null);
  assert.deepEqual(waiting.map((e) => e.kind === "queued" && e.channelId), ["ch_pager"]);
});

Deno.test("incidentTimeline() of an open incident ends with what happened so far", () => {
  const open: IncidentDetail = {
    ...INCIDENT,
    state: "open",
    endedAt: null,
    durationMs: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    updates: [],
    notifications: [],
  };
  assert.deepEqual(incidentTimeline(open).map((e) => e.kind), ["opened"]);
});
