/** Request headers as an event keeps them: bounded, with credentials and signatures removed. */
import type { Verification } from "../store/types.ts";

const MAX_HEADERS_KEPT = 100;
const MAX_HEADER_VALUE = 1024;
const MAX_HEADER_BYTES = 16 * 1024;
/** Header names whose values are credentials or signatures, never stored. */
const SENSITIVE_HEADER =
  /authorization|cookie|signature|secret|token|api[-_]?key|password|credential|session/i;
const REDACTED = "[redacted]";

/** Request headers as stored on an event: credentials, signatures and the secret removed. */
export function redactHeaders(
  headers: Headers,
  verification: Verification,
): Record<string, string> {
  const secretHeader = verification.mode === "header_secret" ||
      verification.mode === "hmac_sha256"
    ? verification.header.toLowerCase()
    : null;
  const out: Record<string, string> = {};
  let count = 0;
  let bytes = 0;
  for (const [name, value] of headers) {
    if (count >= MAX_HEADERS_KEPT || bytes >= MAX_HEADER_BYTES) break;
    const kept = name === secretHeader || SENSITIVE_HEADER.test(name)
      ? REDACTED
      : value.slice(0, MAX_HEADER_VALUE);
    out[name] = kept;
    count++;
    bytes += name.length + kept.length;
  }
  return out;
}
