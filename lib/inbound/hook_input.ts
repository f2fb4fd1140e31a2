/** Validation of inbound hook input from the API. Every rejection names its field. */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { parseBody } from "../validation.ts";
import { checkHeaders } from "../jobs/job_input.ts";
import { checkTargetUrl } from "../net/target_url.ts";
import { secretKeyBytes } from "../webhooks/secrets.ts";
import { DEFAULT_TOLERANCE_SECONDS } from "./verify.ts";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_RELAY_TIMEOUT_MS = 10_000;
export const MAX_RELAY_TIMEOUT_MS = 30_000;
const MAX_URL_LENGTH = 2048;

/** Headers every relayed request carries; the hook's own headers cannot override them. */
export const RELAY_RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "user-agent",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "x-hibiki-hook-id",
  "x-hibiki-delivery-id",
]);

/** RFC 9110 token characters. */
const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/, "is not a header name");
/*
 * A secret is the sender's to choose, so each mode takes what its sender takes, with a
 * minimum length only where the provider has one.
 */
/** GitHub and generic HMAC senders take any string: it keys the MAC as its UTF-8 bytes. */
const anySecret = z.string({ error: "must be a string" })
  .min(1, "must not be empty")
  .max(512, "must be at most 512 characters");
/** Sent as a header value, which is ASCII and loses spaces at either end on the way. */
const headerSecret = anySecret.regex(
  /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/,
  "must be printable ASCII without spaces at either end (a header cannot carry those)",
);
/** Stripe issues `whsec_…` signing secrets: anything short or spaced is a copying mistake. */
const stripeSecret = anySecret.min(8, "must be at least 8 characters")
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
const tolerance = z.number().int("must be a whole number").min(1).max(3600).default(
  DEFAULT_TOLERANCE_SECONDS,
);

const verificationSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("none") }).strict(),
  z.object({
    mode: z.literal("header_secret"),
    header: headerName.default("Secret"),
    secret: headerSecret.optional(),
  }).strict(),
  z.object({
    mode: z.literal("hmac_sha256"),
    header: headerName.default("X-Signature"),
    prefix: z.string().max(32).regex(/^[\x21-\x7e]*$/, "must be printable ASCII").default(""),
    encoding: z.enum(["hex", "base64"], { error: "must be hex or base64" }).default("hex"),
    secret: anySecret.optional(),
  }).strict(),
  z.object({
    mode: z.literal("standard_webhooks"),
    // Checked for the whsec_ form below.
    secret: anySecret.optional(),
    toleranceSeconds: tolerance,
  }).strict(),
  z.object({ mode: z.literal("github"), secret: anySecret.optional() }).strict(),
  z.object({
    mode: z.literal("stripe"),
    // Stripe issues the signing secret; there is nothing for Hibiki to generate.
    secret: z.string({ error: "is required: copy the signing secret from Stripe" }).pipe(
      stripeSecret,
    ),
    toleranceSeconds: tolerance,
  }).strict(),
], {
  error: (issue) =>
    issue.input === undefined
      ? "is required"
      : "must be one of none, header_secret, hmac_sha256, standard_webhooks, github, stripe",
});

const actionSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("store") }).strict(),
  z.object({
    type: z.literal("relay"),
    url: z.string({ error: "is required" }).max(MAX_URL_LENGTH, "is too long"),
    headers: z.record(z.string(), z.string({ error: "values must be strings" })).nullable()
      .default(null),
    timeoutMs: z.number().int("must be a whole number").min(1000).max(MAX_RELAY_TIMEOUT_MS)
      .default(DEFAULT_RELAY_TIMEOUT_MS),
  }).strict(),
  z.object({
    type: z.literal("run"),
    jobId: z.string({ error: "is required" }).min(1, "is required").max(100, "is not a job id"),
  }).strict(),
], {
  error: (issue) => issue.input === undefined ? "is required" : "must be one of store, relay, run",
});

const fields = {
  name: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  enabled: z.boolean({ error: "must be true or false" }),
  verification: verificationSchema,
  challenge: z.boolean({ error: "must be true or false" }),
  action: actionSchema,
  maxBodyBytes: z.number().int("must be a whole number").min(1, "must be at least 1")
    .max(MAX_BODY_BYTES, `must be at most ${MAX_BODY_BYTES}`),
};

const createSchema = z.object({
  name: fields.name,
  enabled: fields.enabled.default(true),
  verification: fields.verification,
  challenge: fields.challenge.default(false),
  action: fields.action.default({ type: "store" }),
  maxBodyBytes: fields.maxBodyBytes.default(DEFAULT_MAX_BODY_BYTES),
}).strict();

const patchSchema = z.object(fields).partial().strict();

export type VerificationInput = z.output<typeof verificationSchema>;
export type ActionInput = z.output<typeof actionSchema>;
export type HookInput = z.output<typeof createSchema>;
export type HookPatch = z.output<typeof patchSchema>;

export interface RelayRules {
  allowPrivateNetworks: boolean;
  /** Plain-http relay targets (always allowed with private networks). */
  allowHttp: boolean;
}

export function parseHookInput(body: unknown, rules: RelayRules): HookInput {
  const input = parseBody(createSchema, body);
  checkVerification(input.verification);
  checkAction(input.action, rules);
  return input;
}

export function parseHookPatch(body: unknown, rules: RelayRules): HookPatch {
  const patch = parseBody(patchSchema, body);
  if (patch.verification) checkVerification(patch.verification);
  if (patch.action) checkAction(patch.action, rules);
  return patch;
}

function checkVerification(verification: VerificationInput): void {
  if (verification.mode !== "standard_webhooks" || verification.secret === undefined) return;
  let bytes: Uint8Array | null = null;
  try {
    bytes = secretKeyBytes(verification.secret);
  } catch {
    bytes = null;
  }
  if (!bytes || bytes.length < 16) {
    throw new ValidationError(
      "verification.secret must be a whsec_ secret: base64 of at least 16 bytes",
      "verification",
    );
  }
}

function checkAction(action: ActionInput, rules: RelayRules): void {
  if (action.type !== "relay") return;
  checkTargetUrl(action.url, { ...rules, label: "action.url", field: "action" });
  try {
    checkHeaders(action.headers, (name) => RELAY_RESERVED_HEADERS.has(name));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`action.${error.message}`, "action");
  }
}
