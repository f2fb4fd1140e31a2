/**
 * Small cryptographic helpers on WebCrypto: random tokens, SHA-256, constant-time
 * comparison, and AES-GCM sealing of secrets at rest under the master key.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const normal = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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
    return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
  }

  async open(sealed: string, context: string): Promise<string> {
    const [version, iv, data] = sealed.split(".");
    if (version !== "v1" || !iv || !data) throw new TypeError("Cannot open secret: unknown format");
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: fromBase64(iv) as BufferSource,
        additionalData: encoder.encode(context),
      },
      await this.key,
      fromBase64(data) as BufferSource,
    );
    return decoder.decode(plain);
  }
}
