/**
 * `webhook` channels: a JSON POST of `{ type, test, incident | incidents | certificate, jobs }`
 * to the user's URL, signed exactly like job webhooks (lib/webhooks/signing.ts): seed 003's
 * `X-Signature` and the Standard Webhooks headers, with the channel's own `whsec_` secret.
 * `X-Webhook-ID` and `webhook-id` are the notification's id, the same on every retry.
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import { ValidationError } from "../../errors.ts";
import { checkHeaders } from "../../jobs/job_input.ts";
import { checkTargetUrl, type TargetUrlRules } from "../../net/target_url.ts";
import { seedSignature, standardSignatures } from "../../webhooks/signing.ts";
import { isReservedHeader } from "../../webhooks/webhook_input.ts";
import type {
  AlertMessage,
  CertificateMessage,
  CertificateNotice,
  Channel,
  Incident,
  SendOutcome,
} from "../types.ts";
import { postJson, type SendContext } from "./http_post.ts";
import { adminJobUrl, itemLink } from "./render.ts";

export const webhookConfig = z.object({
  url: textField().max(2048, "is too long"),
  headers: z.record(z.string(), z.string({ error: "values must be strings" })).nullable()
    .default(null),
}).strict();
export type WebhookConfig = z.output<typeof webhookConfig>;

export function checkWebhookConfig(config: WebhookConfig, rules: TargetUrlRules): void {
  checkTargetUrl(config.url, { ...rules, label: "config.url", field: "config" });
  try {
    checkHeaders(config.headers, isReservedHeader);
  } catch (error) {
    // Job webhooks' messages name `headers`; here they sit in `config`.
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`config.${error.message}`, "config");
  }
}

/** The body a webhook channel receives. */
export interface WebhookPayload {
  type:
    | "incident.opened"
    | "incident.resolved"
    | "incident.reminder"
    | "incidents.grouped"
    | "certificate.expiring";
  /** A sample sent by `POST /api/channels/:id/test`. */
  test: boolean;
  /** The incident told of (not in grouped messages). */
  incident?: Incident;
  /** The incidents told of (grouped messages only). */
  incidents?: Incident[];
  /** The certificate due to expire (`certificate.expiring` only; its job is `jobs[0]`). */
  certificate?: Omit<CertificateNotice, "jobId">;
  jobs: { id: string; name: string; url: string | null; state: string; adminUrl: string }[];
}

export function renderWebhook(message: AlertMessage): WebhookPayload {
  if (message.kind === "certificate.expiring") return certificatePayload(message);
  const jobs = message.items.map((item) => ({
    id: item.job.id,
    name: item.job.name,
    url: item.job.url,
    state: item.state,
    adminUrl: itemLink(message, item),
  }));
  const test = message.kind === "test";
  if (message.kind === "incidents.grouped") {
    return { type: message.kind, test, incidents: message.items.map((i) => i.incident), jobs };
  }
  const type = message.kind === "test" ? "incident.opened" : message.kind;
  return { type, test, incident: message.items[0]?.incident, jobs };
}

function certificatePayload(message: CertificateMessage): WebhookPayload {
  const { jobId: _, ...certificate } = message.certificate;
  const { job } = message;
  return {
    type: message.kind,
    test: false,
    certificate,
    jobs: [{
      id: job.id,
      name: job.name,
      url: job.url,
      state: message.state,
      adminUrl: adminJobUrl(message.baseUrl, job.id),
    }],
  };
}

export async function sendWebhook(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const config = channel.config as WebhookConfig;
  const secret = channel.secret;
  const body = new TextEncoder().encode(JSON.stringify(renderWebhook(message)));
  const id = message.notificationId ?? `ntf_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = Math.floor(context.now() / 1000);
  const headers: Record<string, string> = {
    ...(config.headers ?? {}),
    "X-Webhook-ID": id,
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
  };
  if (secret) {
    headers["X-Signature"] = seedSignature(body, secret);
    headers["webhook-signature"] = standardSignatures(id, timestamp, body, [secret]);
  }
  if (message.kind === "test") headers["X-Webhook-Test"] = "true";
  const posted = await postJson(config.url, body, context, {
    service: "The endpoint",
    headers,
    secrets: Object.values(config.headers ?? {}),
  });
  return posted.outcome;
}
