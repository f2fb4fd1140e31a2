/**
 * `pagerduty` channels: Events API v2 (`POST ${HIBIKI_PAGERDUTY_API_URL}/v2/enqueue`). An
 * incident that opens is a `trigger`, its reminders trigger again (PagerDuty folds them into
 * the same alert), and its recovery a `resolve`; all share `dedup_key` = the incident's id,
 * so PagerDuty's incident follows Hibiki's. A grouped message is one event per incident, as
 * PagerDuty groups by itself; a failure stops the rest, and the retry sends them all again,
 * which `dedup_key` makes harmless. A trigger's `payload.summary` is at most 1,024
 * characters. A certificate warning is a `trigger` of severity `warning` (class `certificate`)
 * with `dedup_key` = the job and the certificate's fingerprint, so a retry folds into the same
 * alert and a renewed certificate's warning is a new one; someone resolves it in PagerDuty once
 * the certificate is renewed. PagerDuty answers 202 `{ status: "success", dedup_key }`, or 400 for an
 * invalid event, or 429 when throttled.
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import type {
  AlertMessage,
  AlertMessageItem,
  CertificateMessage,
  Channel,
  IncidentMessage,
  SendOutcome,
} from "../types.ts";
import { postJson, type SendContext } from "./http_post.ts";
import { certificateFacts, isResolved, itemFacts, itemLink, oneLine, TEST_NOTE } from "./render.ts";

export const pagerDutyConfig = z.object({
  routingKey: textField().regex(
    /^[A-Za-z0-9]{32}$/,
    "must be the 32-character integration key of an Events API v2 integration",
  ),
}).strict();
export type PagerDutyConfig = z.output<typeof pagerDutyConfig>;

const MAX_SUMMARY = 1024;

export interface PagerDutyEvent {
  routing_key: string;
  event_action: "trigger" | "resolve";
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: "critical" | "error" | "warning" | "info";
    timestamp: string;
    component: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
  client?: string;
  client_url?: string;
}

/** One event per item: a trigger while it is down, a resolve once it is up. */
export function renderPagerDuty(
  message: AlertMessage,
  routingKey: string,
  now: number,
): PagerDutyEvent[] {
  if (message.kind === "certificate.expiring") return [certificateEvent(message, routingKey, now)];
  return message.items.map((item) => eventFor(message, item, routingKey, now));
}

function eventFor(
  message: IncidentMessage,
  item: AlertMessageItem,
  routingKey: string,
  now: number,
): PagerDutyEvent {
  const dedupKey = item.incident.id;
  if (isResolved(item) && message.kind !== "test") {
    return { routing_key: routingKey, event_action: "resolve", dedup_key: dedupKey };
  }
  const facts = itemFacts(message, item, now);
  const test = message.kind === "test";
  const summary = test
    ? `[Test] ${TEST_NOTE}`
    : `${facts.name} is ${facts.state}: ${oneLine(facts.cause, MAX_SUMMARY)}`;
  const link = itemLink(message, item);
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      summary: oneLine(summary, MAX_SUMMARY),
      source: sourceOf(item.job.url),
      severity: test ? "info" : "critical",
      timestamp: item.incident.startedAt,
      component: facts.name,
      class: "availability",
      custom_details: {
        cause: facts.cause,
        since: item.incident.startedAt,
        locations: item.incident.locations,
        jobId: item.job.id,
        incidentId: item.incident.id,
        runIds: item.incident.runIds,
      },
    },
    links: [{ href: link, text: "Open in Hibiki" }],
    client: "Hibiki",
    client_url: link,
  };
}

function certificateEvent(
  message: CertificateMessage,
  routingKey: string,
  now: number,
): PagerDutyEvent {
  const facts = certificateFacts(message);
  const { certificate, job } = message;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    // Within 255 characters: a job id is a UUID, the fingerprint 64 hex digits.
    dedup_key: `certificate:${job.id}:${certificate.fingerprint256.replaceAll(":", "")}`,
    payload: {
      summary: oneLine(
        `${facts.name}: certificate expires in ${facts.left} (${facts.validTo})`,
        MAX_SUMMARY,
      ),
      source: sourceOf(job.url),
      severity: "warning",
      timestamp: new Date(now).toISOString(),
      component: facts.name,
      class: "certificate",
      custom_details: {
        subject: certificate.subject,
        issuer: certificate.issuer,
        validFrom: certificate.validFrom,
        validTo: certificate.validTo,
        daysLeft: certificate.daysLeft,
        serialNumber: certificate.serialNumber,
        fingerprint256: certificate.fingerprint256,
        jobId: job.id,
        runId: certificate.runId,
      },
    },
    links: [{ href: facts.link, text: "Open in Hibiki" }],
    client: "Hibiki",
    client_url: facts.link,
  };
}

/** PagerDuty's `source`: the affected system, best a host name. */
function sourceOf(url: string | null): string {
  if (url && URL.canParse(url)) return new URL(url).host;
  return "hibiki";
}

export async function sendPagerDuty(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const { routingKey } = channel.config as PagerDutyConfig;
  const url = `${context.pagerDutyApiUrl}/v2/enqueue`;
  let last: SendOutcome | null = null;
  let durationMs = 0;
  for (const event of renderPagerDuty(message, routingKey, context.now())) {
    const posted = await postJson(url, event, context, {
      service: "PagerDuty",
      trusted: true,
      strict: true,
      secrets: [routingKey],
      describe: (json) => describe(json),
    });
    durationMs += posted.outcome.durationMs;
    last = { ...posted.outcome, durationMs };
    if (!posted.outcome.success) return last;
  }
  return last ?? {
    success: true,
    status: 0,
    durationMs: 0,
    error: null,
    response: "",
    permanent: false,
    retryAfterMs: null,
  };
}

/** `Event object is invalid: 'payload.summary' is missing`. */
function describe(json: unknown): string | null {
  const body = json as { message?: unknown; errors?: unknown } | null;
  if (typeof body?.message !== "string") return null;
  const errors = Array.isArray(body.errors) ? body.errors.filter((e) => typeof e === "string") : [];
  return errors.length ? `${body.message}: ${errors.join("; ")}` : body.message;
}
