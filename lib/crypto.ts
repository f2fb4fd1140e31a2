/**
 * Small cryptographic helpers on WebCrypto: random bytes, SHA-256, constant-time comparison,
 * and AES-GCM sealing of secrets at rest under the master key. Encoding is the runtime's own
 * (`Uint8Array.prototype.toBase64`/`toHex`, `Uint8Array.fromBase64`/`fromHex`).
 */
import { createHash, timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** Base64url without padding, safe in URLs and cookies: tokens, ids, sealed secrets. */
export const BASE64URL = { alphabet: "base64url", omitPadding: true } as const;

const ANY_BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Base64 as people and providers write it: either alphabet (`+/` or `-_`), padding optional,
 * no whitespace; throws a SyntaxError otherwise. For keys and signatures from outside (master
 * key, `whsec_` secrets, signature headers); values Hibiki wrote itself are read with
 * `Uint8Array.fromBase64` in their one alphabet.
 */
export function fromBase64(text: string): Uint8Array {
  if (!ANY_BASE64.test(text)) throw new SyntaxError("Cannot decode base64: unexpected character");
  return Uint8Array.fromBase64(text.replaceAll("-", "+").replaceAll("_", "/"));
}

// node:crypto hashes synchronously: on hot paths (every API call, every inbound request)
// WebCrypto's async digest costs tens of microseconds in scheduling alone.
export function sha256Hex(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Compares two secrets in time independent of where they differ. Both sides are hashed
 * first so that unequal lengths do not leak through an early return either.
 */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash("sha256").update(a).digest(),
    createHash("sha256").update(b).digest(),
  );
}

/** Constant-time comparison of two lowercase hex digests of equal length. */
export function hexDigestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

/** Encrypts and decrypts secrets at rest (webhook secrets, service-account keys). */
export class SecretBox {
  private readonly key: Promise<CryptoKey>;

  /** `masterKey` is 32 raw bytes. */
  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== 32) {
      throw new RangeError(`Cannot use master key: expected 32 bytes, got ${masterKey.length}`);
    }
    this.key = crypto.subtle.importKey("raw", masterKey as BufferSource, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
  }

  /** Returns `v1.<base64url iv>.<base64url ciphertext>`; `context` is bound as associated data. */
  async seal(plaintext: string, context: string): Promise<string> {
    const iv = randomBytes(12);
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: iv as BufferSource, additionalData: encoder.encode(context) },
      await this.key,
      encoder.encode(plaintext),
    );
    return `v1.${iv.toBase64(BASE64URL)}.${new Uint8Array(sealed).toBase64(BASE64URL)}`;
  }

  async open(sealed: string, context: string): Promise<string> {
    const [version, iv, data] = sealed.split(".");
    if (version !== "v1" || !iv || !data) throw new TypeError("Cannot open secret: unknown format");
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: Uint8Array.fromBase64(iv, BASE64URL) as BufferSource,
        additionalData: encoder.encode(context),
      },
      await this.key,
      Uint8Array.fromBase64(data, BASE64URL) as BufferSource,
    );
    return decoder.decode(plain);
  }
}
