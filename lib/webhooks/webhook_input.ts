/** Validation of webhook input (seed 003's `{ jobId, endpoint, headers }`). */
import { z } from "zod";
import { parseBody } from "../validation.ts";
import { checkHeaders } from "../jobs/job_input.ts";
import { checkTargetUrl } from "../net/target_url.ts";

/** Headers every delivery carries; custom headers cannot override them. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "user-agent",
  "x-webhook-id",
  "x-signature",
  "x-webhook-test",
]);

/** Reserved, plus the whole `webhook-*` family of Standard Webhooks. */
export function isReservedHeader(lowerName: string): boolean {
  return RESERVED_HEADERS.has(lowerName) || lowerName.startsWith("webhook-");
}

const MAX_ENDPOINT_LENGTH = 2048;

const headers = z.record(z.string(), z.string({ error: "values must be strings" })).nullable();
const createSchema = z.object({
  jobId: z.string({ error: "is required" }).min(1, "is required").max(100, "is not a job id"),
  endpoint: z.string({ error: "is required" }).max(MAX_ENDPOINT_LENGTH, "is too long"),
  headers: headers.default(null),
}).strict();
const patchSchema = z.object({
  endpoint: z.string().max(MAX_ENDPOINT_LENGTH, "is too long"),
  headers,
  enabled: z.boolean({ error: "must be true or false" }),
}).partial().strict();

export type WebhookInput = z.output<typeof createSchema>;
export type WebhookPatch = z.output<typeof patchSchema>;

export interface EndpointRules {
  allowPrivateNetworks: boolean;
  allowHttp: boolean;
}

export function parseWebhookInput(body: unknown, rules: EndpointRules): WebhookInput {
  const input = parseBody(createSchema, body);
  checkEndpoint(input.endpoint, rules);
  checkHeaders(input.headers, isReservedHeader);
  return input;
}

export function parseWebhookPatch(body: unknown, rules: EndpointRules): WebhookPatch {
  const patch = parseBody(patchSchema, body);
  if (patch.endpoint !== undefined) checkEndpoint(patch.endpoint, rules);
  if (patch.headers !== undefined) checkHeaders(patch.headers, isReservedHeader);
  return patch;
}

function checkEndpoint(text: string, rules: EndpointRules): void {
  checkTargetUrl(text, { ...rules, label: "endpoint", field: "endpoint" });
}
