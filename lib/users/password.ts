/**
 * Password hashing with PBKDF2-SHA256 on WebCrypto. The stored form names its algorithm and
 * iteration count (`pbkdf2-sha256$600000$<salt>$<hash>`), so the count can rise later and old
 * hashes still verify.
 */
import { timingSafeEqual } from "node:crypto";
import { BASE64URL, randomBytes } from "../crypto.ts";

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const PBKDF2_ITERATIONS = 600_000;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;
const HASH_BYTES = 32;

async function derive(password: string, salt: Uint8Array, iterations: number) {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    material,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(
  password: string,
  options: { iterations?: number } = {},
): Promise<string> {
  const iterations = options.iterations ?? PBKDF2_ITERATIONS;
  const salt = randomBytes(16);
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${salt.toBase64(BASE64URL)}$${hash.toBase64(BASE64URL)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [algorithm, count, salt, hash] = stored.split("$");
  const iterations = Number(count);
  if (algorithm !== "pbkdf2-sha256" || !Number.isInteger(iterations) || !salt || !hash) {
    return false;
  }
  const expected = Uint8Array.fromBase64(hash, BASE64URL);
  const actual = await derive(password, Uint8Array.fromBase64(salt, BASE64URL), iterations);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of nothing anyone can type, verified when the user is unknown so timing tells nothing. */
export const DUMMY_HASH = "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA$" +
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

export function checkNewPassword(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `Password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `Password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}
