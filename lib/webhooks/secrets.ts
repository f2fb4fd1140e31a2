/**
 * Webhook secrets: `whsec_` + base64 of 32 random bytes, the Standard Webhooks format. The
 * seed's `X-Signature` is keyed with the whole string as the user received it; the Standard
 * Webhooks signature with the decoded bytes.
 */
import { fromBase64, randomBytes } from "../crypto.ts";

export const SECRET_PREFIX = "whsec_";

export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toBase64();
}

/** `whsec_abc1…`: enough to recognise a secret, not to use it. */
export function maskSecret(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 4) + "…";
}

/** The key bytes of a `whsec_` secret, as Standard Webhooks libraries decode them. */
export function secretKeyBytes(secret: string): Uint8Array {
  return fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
}
