/**
 * One check of a user's URL, as a job run, a probe worker and a webhook delivery make it: the
 * request goes out through lib/net/outbound.ts (SSRF-vetted on every hop, one deadline, capped
 * body), and the answer is judged against the expectations. Network problems never throw;
 * they become a result.
 */

import type { ErrorCategory } from "./net_errors.ts";
import { send } from "./outbound.ts";
import type { Resolver } from "./ssrf.ts";
import type { CertificateReader, ServerCertificate } from "./tls_certificate.ts";
import type { Expectation, HttpMethod } from "../store/types.ts";

export type { ErrorCategory };

export type { HttpMethod };

export interface ProbeRequest {
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  /** Sent exactly as given: webhook signatures cover these bytes. */
  body: string | Uint8Array | null;
  timeoutMs: number;
}

/** Declared with the job it belongs to (lib/store/types.ts). */
export type ProbeExpect = Expectation;

export interface ProbeResult {
  /** The request completed and every expectation was met. */
  success: boolean;
  /** HTTP status, 0 when no response arrived. */
  code: number;
  /** The whole probe including redirects, integer milliseconds. */
  durationMs: number;
  /** Final response headers, lower-case names. */
  headers: Record<string, string>;
  /** The first `bodyLimit` bytes decoded as UTF-8 (lossy), "" for HEAD. */
  body: string;
  bodyTruncated: boolean;
  /** Transport failure, null when a response arrived. */
  error: { category: ErrorCategory; message: string } | null;
  /** Why the expectations failed, null when they held or no response arrived. */
  failure: string | null;
  finalUrl: string;
  redirects: number;
  /** With `certificates`, for an https URL: its certificate, null when it was not read. */
  certificate?: ServerCertificate | null;
}

export interface ProbeOptions {
  expect?: ProbeExpect;
  allowPrivate: boolean;
  /** Bytes of body kept; default 16384. */
  bodyLimit?: number;
  /** Redirect hops followed; default 5. */
  maxRedirects?: number;
  resolve?: Resolver;
  /** Performance clock in ms; default `performance.now`. Called once at start, once at end. */
  now?: () => number;
  userAgent?: string;
  /** Replaces the SSRF address check; only for tests that must reach a loopback server. */
  isBlocked?: (ip: string) => string | null;
  /** Reads an https URL's certificate beside the request (job runs; see outbound.ts). */
  certificates?: CertificateReader;
}

export const DEFAULT_USER_AGENT = "Hibiki/1.0 (+https://github.com/hibiki)";
const DEFAULT_BODY_LIMIT = 16384;
const DEFAULT_MAX_REDIRECTS = 5;

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function describeStatus(status: number | number[] | undefined): string {
  if (status === undefined) return "2xx";
  const list = Array.isArray(status) ? status : [status];
  if (list.length <= 1) return String(list[0]);
  return `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}

/** Returns why the response misses the expectations, or null. */
function checkExpectations(
  expect: ProbeExpect,
  response: { code: number; body: string; truncated: boolean; durationMs: number },
  limit: number,
): string | null {
  const { status } = expect;
  const statusOk = status === undefined
    ? response.code >= 200 && response.code < 300
    : (Array.isArray(status) ? status : [status]).includes(response.code);
  if (!statusOk) return `Expected status ${describeStatus(status)}, got ${response.code}`;
  if (expect.bodyContains !== undefined && !response.body.includes(expect.bodyContains)) {
    const where = response.truncated ? ` in the first ${limit} bytes` : "";
    return `Body does not contain ${JSON.stringify(expect.bodyContains)}${where}`;
  }
  if (expect.maxLatencyMs !== undefined && response.durationMs > expect.maxLatencyMs) {
    return `Latency ${response.durationMs} ms exceeds ${expect.maxLatencyMs} ms`;
  }
  return null;
}

/**
 * Sends one HTTP request under a total deadline (DNS, connect, headers, body and every redirect
 * hop) and reports the outcome. Expectations default to a 2xx status; with `maxRedirects: 0`
 * (deliveries, relays) a redirect is an answer like any other, so it fails them.
 */
export async function probe(request: ProbeRequest, options: ProbeOptions): Promise<ProbeResult> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const headers = { ...request.headers };
  if (!hasHeader(headers, "user-agent")) {
    headers["User-Agent"] = options.userAgent ?? DEFAULT_USER_AGENT;
  }
  const answer = await send(
    { url: request.url, method: request.method, headers, body: request.body },
    {
      timeoutMs: request.timeoutMs,
      bodyCap: bodyLimit,
      allowPrivate: options.allowPrivate,
      maxRedirects: options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
      resolve: options.resolve,
      isBlocked: options.isBlocked,
      now: options.now,
      certificates: options.certificates,
    },
  );
  // `stream: true` drops a multi-byte character cut in half by the cap instead of emitting U+FFFD.
  const body = new TextDecoder().decode(answer.body, { stream: answer.bodyTruncated });
  const failure = answer.error ? null : checkExpectations(
    options.expect ?? {},
    { code: answer.status, body, truncated: answer.bodyTruncated, durationMs: answer.durationMs },
    bodyLimit,
  );
  return {
    success: answer.error === null && failure === null,
    code: answer.status,
    durationMs: answer.durationMs,
    headers: answer.headers,
    body,
    bodyTruncated: answer.bodyTruncated,
    error: answer.error,
    failure,
    finalUrl: answer.finalUrl,
    redirects: answer.redirects,
    ...(answer.certificate !== undefined ? { certificate: answer.certificate } : {}),
  };
}
