/**
 * Verification of inbound requests, one pure function per mode. Each works on the raw body
 * bytes as they arrived (a parsed-and-reserialised body would not match the sender's MAC) and
 * compares in constant time, so a forger learns nothing from how long a refusal takes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { fromBase64, secretsEqual } from "../crypto.ts";
import { standardMac } from "../webhooks/signing.ts";
import type { Verification } from "../store/types.ts";

export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

export interface VerifyRequest {
  /** The body exactly as received. */
  body: Uint8Array;
  headers: Headers;
  /** Epoch ms, for the timestamped modes. */
  now: number;
}

export type VerifyFailure = "missing" | "malformed" | "mismatch" | "expired";

export type VerifyOutcome =
  | { ok: true }
  | { ok: false; reason: VerifyFailure; message: string };

const OK: VerifyOutcome = { ok: true };

function fail(reason: VerifyFailure, message: string): VerifyOutcome {
  return { ok: false, reason, message };
}

/** Verifies a request by the hook's mode. */
export function verifyRequest(
  verification: Verification,
  request: VerifyRequest,
): VerifyOutcome {
  switch (verification.mode) {
    case "none":
      return OK;
    case "header_secret":
      return verifyHeaderSecret(request, verification);
    case "hmac_sha256":
      return verifyHmacSha256(request, verification);
    case "standard_webhooks":
      return verifyStandardWebhooks(request, verification);
    case "github":
      return verifyGithub(request, verification);
    case "stripe":
      return verifyStripe(request, verification);
  }
}

/** Seed 001: a named header carries the shared secret itself. */
export function verifyHeaderSecret(
  request: VerifyRequest,
  options: { header: string; secret: string },
): VerifyOutcome {
  const value = request.headers.get(options.header);
  if (value === null) return fail("missing", `Missing ${options.header} header`);
  return secretsEqual(value, options.secret)
    ? OK
    : fail("mismatch", `${options.header} header does not match`);
}

/** A digest of the body alone, as many providers send it (GitHub is one preset of this). */
export function verifyHmacSha256(
  request: VerifyRequest,
  options: { header: string; prefix: string; encoding: "hex" | "base64"; secret: string },
): VerifyOutcome {
  const value = request.headers.get(options.header);
  if (value === null) return fail("missing", `Missing ${options.header} header`);
  const text = value.trim();
  if (!text.startsWith(options.prefix)) {
    return fail("malformed", `${options.header} header does not start with "${options.prefix}"`);
  }
  const given = decodeDigest(text.slice(options.prefix.length), options.encoding);
  if (given === null) {
    return fail("malformed", `${options.header} header is not a ${options.encoding} digest`);
  }
  const expected = hmacSha256(encoder.encode(options.secret), request.body);
  return bytesEqual(given, expected)
    ? OK
    : fail("mismatch", `${options.header} signature does not match`);
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export function verifyGithub(
  request: VerifyRequest,
  options: { secret: string },
): VerifyOutcome {
  return verifyHmacSha256(request, {
    header: "X-Hub-Signature-256",
    prefix: "sha256=",
    encoding: "hex",
    secret: options.secret,
  });
}

/**
 * Standard Webhooks: `v1,<base64>` of HMAC-SHA256 over `id.timestamp.body`, keyed with the
 * secret's decoded bytes; any of the space-separated signatures may match (the sender may be
 * rotating). The timestamp bounds replays; the id is left to the caller's de-duplication.
 * Svix, which began the format, sends the same headers prefixed `svix-`.
 */
export function verifyStandardWebhooks(
  request: VerifyRequest,
  options: { secret: string; toleranceSeconds?: number },
): VerifyOutcome {
  const header = (name: string) =>
    request.headers.get(`webhook-${name}`) ?? request.headers.get(`svix-${name}`);
  const id = header("id");
  const timestamp = header("timestamp");
  const signatures = header("signature");
  if (id === null || timestamp === null || signatures === null) {
    return fail("missing", "Missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  const stale = checkTimestamp(timestamp, request.now, options.toleranceSeconds, "webhook");
  if (stale) return stale;
  let expected: Uint8Array;
  try {
    expected = standardMac(id, timestamp, request.body, options.secret);
  } catch {
    return fail("mismatch", "webhook-signature does not match");
  }
  const candidates = signatures.split(" ").filter((part) => part.startsWith("v1,"));
  if (candidates.length === 0) return fail("malformed", "webhook-signature has no v1 signature");
  // Every candidate is compared, so the time taken does not tell which one matched.
  let matched = false;
  for (const candidate of candidates) {
    const given = decodeDigest(candidate.slice(3), "base64");
    if (given !== null && bytesEqual(given, expected)) matched = true;
  }
  return matched ? OK : fail("mismatch", "webhook-signature does not match");
}

/**
 * Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=…][,v0=…]`, the hex HMAC-SHA256 of
 * `t.body` keyed with the whole `whsec_…` string. Only `v1` is Stripe's live scheme.
 */
export function verifyStripe(
  request: VerifyRequest,
  options: { secret: string; toleranceSeconds?: number },
): VerifyOutcome {
  const value = request.headers.get("Stripe-Signature");
  if (value === null) return fail("missing", "Missing Stripe-Signature header");
  let timestamp: string | null = null;
  const candidates: string[] = [];
  for (const part of value.split(",")) {
    const at = part.indexOf("=");
    if (at === -1) continue;
    const name = part.slice(0, at).trim();
    const text = part.slice(at + 1).trim();
    if (name === "t") timestamp = text;
    if (name === "v1") candidates.push(text);
  }
  if (timestamp === null || candidates.length === 0) {
    return fail("malformed", "Stripe-Signature header lacks t= or v1=");
  }
  const stale = checkTimestamp(timestamp, request.now, options.toleranceSeconds, "Stripe");
  if (stale) return stale;
  const expected = hmacSha256(encoder.encode(options.secret), `${timestamp}.`, request.body);
  let matched = false;
  for (const candidate of candidates) {
    const given = decodeDigest(candidate, "hex");
    if (given !== null && bytesEqual(given, expected)) matched = true;
  }
  return matched ? OK : fail("mismatch", "Stripe-Signature does not match");
}

function checkTimestamp(
  text: string,
  now: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  what: string,
): VerifyOutcome | null {
  if (!/^\d{1,12}$/.test(text.trim())) {
    return fail("malformed", `${what} timestamp is not a number of seconds`);
  }
  const skew = Math.abs(Math.floor(now / 1000) - Number(text.trim()));
  if (skew > toleranceSeconds) {
    return fail(
      "expired",
      `${what} timestamp is ${skew} s away from now: more than ${toleranceSeconds} s`,
    );
  }
  return null;
}

/** Synchronous (node:crypto): no key import and no thread hop per request. */
/** HMAC-SHA256 of the parts in order, without joining them (a body may be megabytes). */
export function hmacSha256(key: Uint8Array, ...parts: (Uint8Array | string)[]): Uint8Array {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return new Uint8Array(mac.digest());
}

/** Digest lengths are public, so only equal-length inputs need the constant-time compare. */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function decodeDigest(text: string, encoding: "hex" | "base64"): Uint8Array | null {
  if (encoding === "hex") {
    if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return null;
    return Uint8Array.fromHex(text);
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  try {
    return fromBase64(text);
  } catch {
    return null;
  }
}
