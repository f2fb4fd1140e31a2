/**
 * Ping tokens: the last segment of a heartbeat job's ping URL, the only thing a ping carries.
 * 24 random bytes (192 bits) in base64url: unguessable, and no key beside it is needed.
 *
 * The token is kept sealed in its job (so the owner can see the URL again) and indexed by its
 * SHA-256: a ping is found by hashing what it sent and reading that one key. Nothing compares
 * the token itself, so there is no comparison to time; the index lookup's timing can at most
 * tell how a hash of the guess sorts, which says nothing about any real token.
 */
import { BASE64URL, randomBytes, sha256Hex } from "../crypto.ts";

export const PING_TOKEN = /^[A-Za-z0-9_-]{32}$/;

export function newPingToken(): string {
  return randomBytes(24).toBase64(BASE64URL);
}

/** The index key of a token: SHA-256, hex. */
export function pingTokenHash(token: string): string {
  return sha256Hex(token);
}

/** The context a job's token is sealed under, so a sealed token opens only in its own job. */
export function tokenContext(jobId: string): string {
  return `ping-token:${jobId}`;
}
