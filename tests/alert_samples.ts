/**
 * Alert messages for channel tests: incidents and jobs as the alerting engine hands them to
 * a channel, one or many, open or resolved, built at the tests' fixed time.
 */
import type {
  AlertMessage,
  AlertMessageItem,
  Incident,
  NotificationKind,
} from "../lib/alerts/types.ts";
import { T0 } from "./helpers.ts";

export const BASE_URL = "https://hibiki.example.com";

export function sampleIncident(fields: Partial<Incident> = {}): Incident {
  return {
    id: "inc_0001",
    userId: "default",
    jobId: "job_api",
    state: "open",
    kind: "down",
    startedAt: new Date(T0 - 5 * 60_000).toISOString(),
    endedAt: null,
    durationMs: null,
    cause: "Expected status 2xx, got 503",
    runIds: [`${T0 - 5 * 60_000}-local`],
    locations: ["local", "aws-tyo1a"],
    acknowledgedAt: null,
    acknowledgedBy: null,
    updates: [],
    notificationIds: [],
    ...fields,
  };
}

export function resolvedIncident(fields: Partial<Incident> = {}): Incident {
  return sampleIncident({
    state: "resolved",
    endedAt: new Date(T0).toISOString(),
    durationMs: 5 * 60_000,
    ...fields,
  });
}

export function sampleItem(
  name = "API health",
  incident: Incident = sampleIncident(),
): AlertMessageItem {
  return {
    incident,
    job: { id: incident.jobId, name, url: "https://api.example.com/health" },
    state: incident.state === "open" ? "down" : "up",
  };
}

export function sampleMessage(
  kind: NotificationKind,
  items: AlertMessageItem[] = [sampleItem()],
  fields: Partial<AlertMessage> = {},
): AlertMessage {
  return { kind, items, baseUrl: BASE_URL, ...fields };
}

/** `n` jobs down at once, as a grouped message tells of them. */
export function groupedMessage(n: number): AlertMessage {
  const items = Array.from({ length: n }, (_, i) =>
    sampleItem(
      `Job ${String(i + 1).padStart(3, "0")}`,
      sampleIncident({ id: `inc_${i}`, jobId: `job_${i}` }),
    ));
  return sampleMessage("incidents.grouped", items);
}
