/**
 * Failures of calls to Google (token endpoint, Cloud Run Admin API), typed where they are thrown
 * so the runner can tell "do not try again" from "try again later" from "we do not know whether
 * the job started".
 */

/**
 * - `auth`: the token endpoint refused the key, or Cloud Run refused a fresh token (401)
 * - `forbidden`: 403, the service account lacks a permission
 * - `not_found`: 404, no such project, region, job or execution
 * - `invalid`: 400, Google rejected the request
 * - `rate_limited`: 429
 * - `unavailable`: 5xx
 * - `timeout`: a request ran out of time (for `jobs:run` see `unknown_outcome`)
 * - `network`: no HTTP response (refused, reset, DNS)
 * - `unknown_outcome`: `jobs:run` was sent but no answer came back: the execution may exist
 * - `protocol`: Google answered with something we cannot read
 */
export type GcpErrorCategory =
  | "auth"
  | "forbidden"
  | "not_found"
  | "invalid"
  | "rate_limited"
  | "unavailable"
  | "timeout"
  | "network"
  | "unknown_outcome"
  | "protocol";

export interface GcpErrorDetails {
  category: GcpErrorCategory;
  /** HTTP status of Google's answer, 0 when none arrived. */
  status: number;
  /** Whether the same request may succeed later. */
  retryable: boolean;
  /** From `Retry-After`, when Google sent one. */
  retryAfterMs?: number | null;
  /** Google's `error.status` (`PERMISSION_DENIED`, …) or OAuth `error` (`invalid_grant`). */
  googleStatus?: string | null;
}

export class GcpError extends Error {
  override name = "GcpError";
  readonly category: GcpErrorCategory;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  readonly googleStatus: string | null;

  constructor(message: string, details: GcpErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.category = details.category;
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs ?? null;
    this.googleStatus = details.googleStatus ?? null;
  }
}

/** The token endpoint refused the assertion or failed; `googleStatus` holds OAuth's `error`. */
export class GcpTokenError extends GcpError {
  override name = "GcpTokenError";
}

/** Maps an HTTP status from Google to a category and whether trying again can help. */
export function classifyStatus(status: number): { category: GcpErrorCategory; retryable: boolean } {
  if (status === 401) return { category: "auth", retryable: false };
  if (status === 403) return { category: "forbidden", retryable: false };
  if (status === 404) return { category: "not_found", retryable: false };
  if (status === 408) return { category: "timeout", retryable: true };
  if (status === 429) return { category: "rate_limited", retryable: true };
  if (status >= 500) return { category: "unavailable", retryable: true };
  return { category: "invalid", retryable: false };
}
