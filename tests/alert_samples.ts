/**
 * Alert messages for channel tests: incidents and jobs as the alerting engine hands them to
 * a channel, one or many, open or resolved, and a certificate warning, built at the tests'
 * fixed time; and the channel senders and channels those tests send them through.
 */
import { createNotifySend } from "../lib/alerts/channels/notify_send.ts";
import type {
  AlertMessageItem,
  CertificateMessage,
  CertificateNotice,
  Channel,
  ChannelType,
  Incident,
  IncidentMessage,
  IncidentNotificationKind,
  NotifySend,
} from "../lib/alerts/types.ts";
import { ManualClock } from "../lib/clock.ts";
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
  kind: IncidentNotificationKind,
  items: AlertMessageItem[] = [sampleItem()],
  fields: Partial<IncidentMessage> = {},
): IncidentMessage {
  return { kind, items, baseUrl: BASE_URL, ...fields };
}

/** `n` jobs down at once, as a grouped message tells of them. */
export function groupedMessage(n: number): IncidentMessage {
  const items = Array.from({ length: n }, (_, i) =>
    sampleItem(
      `Job ${String(i + 1).padStart(3, "0")}`,
      sampleIncident({ id: `inc_${i}`, jobId: `job_${i}` }),
    ));
  return sampleMessage("incidents.grouped", items);
}

/** Valid until 10 days and 6 hours after T0: `2026-03-12 18:00:00 UTC`. */
export const CERTIFICATE_VALID_TO = "2026-03-12T18:00:00.000Z";

export function sampleCertificate(fields: Partial<CertificateNotice> = {}): CertificateNotice {
  return {
    jobId: "job_api",
    runId: `${T0}-local`,
    subject: "CN=api.example.com",
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    validFrom: "2025-12-12T18:00:01.000Z",
    validTo: CERTIFICATE_VALID_TO,
    daysLeft: 10,
    thresholdDays: 14,
    serialNumber: "05A1B2C3",
    fingerprint256: Array.from(
      { length: 32 },
      (_, i) => (i * 7 % 256).toString(16).padStart(2, "0"),
    )
      .join(":").toUpperCase(),
    ...fields,
  };
}

/** The warning for the sample job's certificate, 10 days before it expires. */
export function certificateMessage(
  name = "API health",
  fields: Partial<CertificateMessage> = {},
): CertificateMessage {
  return {
    kind: "certificate.expiring",
    job: { id: "job_api", name, url: "https://api.example.com/health" },
    state: "up",
    certificate: sampleCertificate(),
    baseUrl: BASE_URL,
    notificationId: "ntf_cert",
    ...fields,
  };
}

export const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
export const ROUTING_KEY = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12";

/** The channel senders as the system builds them, Telegram and PagerDuty on local stand-ins. */
export function sender(
  options: { telegram?: string; pagerDuty?: string; allowPrivate?: boolean; now?: number } = {},
): NotifySend {
  return createNotifySend({
    allowPrivateNetworks: options.allowPrivate ?? true,
    telegramApiUrl: options.telegram ?? "http://127.0.0.1:9",
    pagerDutyApiUrl: options.pagerDuty ?? "http://127.0.0.1:9",
    publicUrl: BASE_URL,
    clock: new ManualClock(options.now ?? T0),
    timeoutMs: 5_000,
  });
}

/** A stored channel of `type` (its config and secret already opened). */
export function channel(
  type: ChannelType,
  config: Record<string, unknown>,
  secret: string | null = null,
): Channel {
  const stamp = new Date(T0).toISOString();
  return {
    id: "ch_test",
    userId: "default",
    name: `${type} channel`,
    type,
    config,
    secret,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

export function json<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(text) as T;
}
