/**
 * Signatures over the exact bytes sent. `X-Signature` is seed 003's: lowercase hex
 * HMAC-SHA256 of the body keyed with the secret string itself (so the seed's Node.js and
 * Python samples verify it). `webhook-signature` is Standard Webhooks': `v1,<base64>` of
 * HMAC-SHA256 over `id.timestamp.body` keyed with the secret's decoded bytes, one per
 * active secret, space-separated. Computed with node:crypto, synchronously: thousands of
 * deliveries a second cannot afford a thread hop per signature.
 */
import { createHmac } from "node:crypto";
import { BoundedCache } from "../bounded_cache.ts";
import { secretKeyBytes } from "./secrets.ts";

/** Seed 003's `X-Signature`. */
export function seedSignature(body: Uint8Array, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** Standard Webhooks' `webhook-signature` for every secret given. */
export function standardSignatures(
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
  secrets: string[],
): string {
  return secrets.map((secret) =>
    `v1,${standardMac(id, timestampSeconds, body, secret).toString("base64")}`
  ).join(" ");
}

/**
 * Standard Webhooks' HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's decoded
 * bytes: what deliveries sign and inbound hooks verify. Throws for a secret that is not base64.
 */
export function standardMac(
  id: string,
  timestamp: number | string,
  body: Uint8Array,
  secret: string,
): Buffer {
  return createHmac("sha256", keyBytes(secret)).update(`${id}.${timestamp}.`).update(body)
    .digest();
}

const keyBytesCache = new BoundedCache<string, Uint8Array>();

/** Decoded once per secret: every delivery signs with it. */
function keyBytes(secret: string): Uint8Array {
  return keyBytesCache.get(secret) ?? keyBytesCache.set(secret, secretKeyBytes(secret));
}
