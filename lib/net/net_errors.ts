/**
 * How an outbound request failed, in the categories runs and deliveries report: our own
 * failures carry theirs, and the client's errors are sorted by their code (text as a fallback).
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

/** The error's code (Node's `ECONNREFUSED`, undici's `UND_ERR_SOCKET`, …), or "". */
function codeOf(error: unknown): string {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return "";
}

/** The error's text without OS error numbers or line breaks, for a result's message. */
export function errorDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const detail = message.replace(/\s*\(os error \d+\)/g, "").replace(/\s+/g, " ").trim();
  return detail || "request failed";
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/;
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET"]);
const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"]);

export function classify(error: unknown, url: URL): { category: ErrorCategory; message: string } {
  if (error instanceof NetFailure) return { category: error.category, message: error.message };
  if (error instanceof BlockedAddressError) return { category: "blocked", message: error.message };
  if (error instanceof DnsError) return { category: "dns", message: error.message };
  const code = codeOf(error);
  const detail = errorDetail(error);
  const target = JSON.stringify(url.href);
  if (code === "ECONNREFUSED" || /connection refused/i.test(detail)) {
    return { category: "refused", message: `Cannot connect to ${target}: connection refused` };
  }
  if (DNS_CODES.has(code) || /getaddrinfo|dns error|name or service not known/i.test(detail)) {
    const reason = code === "ENOTFOUND" ? "no such host" : detail;
    return { category: "dns", message: `Cannot resolve "${url.hostname}": ${reason}` };
  }
  if (
    TLS_CODE.test(code) ||
    /tls|ssl|certificate|handshake|corrupt message|UnknownIssuer|NotValidForName/i.test(detail)
  ) {
    return { category: "tls", message: `Cannot connect to ${target}: TLS failed: ${detail}` };
  }
  if (
    RESET_CODES.has(code) ||
    /reset|other side closed|connection closed|broken pipe|unexpected eof/i.test(detail)
  ) {
    return { category: "reset", message: `Request to ${target} failed: ${detail}` };
  }
  if (TIMEOUT_CODES.has(code) || /timed out/i.test(detail)) {
    return { category: "timeout", message: `Request to ${target} failed: ${detail}` };
  }
  return { category: "network", message: `Request to ${target} failed: ${detail}` };
}
