/**
 * Signatures over the exact bytes sent. `X-Signature` is seed 003's: lowercase hex
 * HMAC-SHA256 of the body keyed with the secret string itself (so the seed's Node.js and
 * Python samples verify it). `webhook-signature` is Standard Webhooks': `v1,<base64>` of
 * HMAC-SHA256 over `id.timestamp.body` keyed with the secret's decoded bytes, one per
 * active secret, space-separated.
 */
import { toBase64, toHex } from "../crypto.ts";
import { secretKeyBytes } from "./secrets.ts";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_MAX = 10_000;

function hmacKey(kind: "seed" | "standard", secret: string): Promise<CryptoKey> {
  const cacheKey = `${kind}:${secret}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    const raw = kind === "seed" ? encoder.encode(secret) : secretKeyBytes(secret);
    key = crypto.subtle.importKey(
      "raw",
      raw as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** Seed 003's `X-Signature`. */
export async function seedSignature(body: Uint8Array, secret: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey("seed", secret), body as BufferSource);
  return toHex(new Uint8Array(mac));
}

/** Standard Webhooks' `webhook-signature` for every secret given. */
export async function standardSignatures(
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
  secrets: string[],
): Promise<string> {
  const prefix = encoder.encode(`${id}.${timestampSeconds}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const parts = await Promise.all(secrets.map(async (secret) => {
    const mac = await crypto.subtle.sign(
      "HMAC",
      await hmacKey("standard", secret),
      signed as BufferSource,
    );
    return `v1,${toBase64(new Uint8Array(mac))}`;
  }));
  return parts.join(" ");
}
