/**
 * How an outbound request failed, in the categories runs and deliveries report: our own
 * failures carry theirs, and the runtime's errors are sorted by their text.
 */
import { BlockedAddressError, DnsError } from "./ssrf.ts";

export type ErrorCategory =
  | "timeout"
  | "dns"
  | "refused"
  | "reset"
  | "tls"
  | "blocked"
  | "redirect"
  | "network";

/** A failure whose category is already known. */
export class NetFailure extends Error {
  constructor(readonly category: ErrorCategory, message: string) {
    super(message);
    this.name = "NetFailure";
  }
}

/** Deno's fetch error text without the request preamble and the OS error number. */
export function fetchDetail(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const detail = message
    .replace(/^error sending request.*?\): /, "")
    .replace(/^client error \(\w+\): /, "")
    .replace(/\s*\(os error \d+\)/g, "")
    .trim();
  return detail || "request failed";
}

export function classify(error: unknown, url: URL): { category: ErrorCategory; message: string } {
  if (error instanceof NetFailure) return { category: error.category, message: error.message };
  if (error instanceof BlockedAddressError) return { category: "blocked", message: error.message };
  if (error instanceof DnsError) return { category: "dns", message: error.message };
  const detail = fetchDetail(error);
  const target = JSON.stringify(url.href);
  if (/connection refused/i.test(detail)) {
    return { category: "refused", message: `Cannot connect to ${target}: connection refused` };
  }
  if (/dns error|failed to lookup address|name or service not known|no such host/i.test(detail)) {
    return { category: "dns", message: `Cannot resolve "${url.hostname}": ${detail}` };
  }
  if (
    /tls|certificate|handshake|corrupt message|alert|UnknownIssuer|NotValidForName/i.test(detail)
  ) {
    return { category: "tls", message: `Cannot connect to ${target}: TLS failed: ${detail}` };
  }
  if (
    /reset|connection closed|broken pipe|unexpected eof|connection aborted|incomplete|reading a body/i
      .test(detail)
  ) {
    return { category: "reset", message: `Request to ${target} failed: ${detail}` };
  }
  if (/timed out/i.test(detail)) {
    return { category: "timeout", message: `Request to ${target} failed: ${detail}` };
  }
  return { category: "network", message: `Request to ${target} failed: ${detail}` };
}
