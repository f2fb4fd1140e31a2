/**
 * The one place where failures become HTTP responses, in seed 003's envelope:
 * `{ "success": false, "error": { "code", "message" } }` (plus `field` for bad input).
 * Unexpected errors are logged and answered with a plain 500, never a stack trace.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RequestAbortedError,
  UnauthorizedError,
  ValidationError,
} from "../../lib/errors.ts";

export function errorBody(code: string, message: string, field?: string | null) {
  return {
    success: false as const,
    error: field ? { code, message, field } : { code, message },
  };
}

export function handleError(error: Error, c: Context): Response {
  const [status, code] = classify(error);
  if (status === 500) {
    console.error(`Unhandled error on ${c.req.method} ${loggedPath(c)}:`, error);
    return c.json(errorBody(code, "Internal server error"), 500);
  }
  const field = error instanceof ValidationError ? error.field : null;
  if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="hibiki"');
  return c.json(errorBody(code, error.message, field), status);
}

function classify(error: Error): [ContentfulStatusCode, string] {
  if (error instanceof ValidationError) return [400, "INVALID_REQUEST"];
  if (error instanceof UnauthorizedError) return [401, "UNAUTHORIZED"];
  if (error instanceof ForbiddenError) return [403, "FORBIDDEN"];
  if (error instanceof NotFoundError) return [404, "NOT_FOUND"];
  if (error instanceof ConflictError) return [409, "CONFLICT"];
  if (error instanceof PayloadTooLargeError) return [413, "PAYLOAD_TOO_LARGE"];
  // The client hung up mid-body: not a server error, and nobody will read the answer.
  if (error instanceof RequestAbortedError) return [400, "INVALID_REQUEST"];
  if (error instanceof HTTPException) {
    if (error.status === 413) return [413, "PAYLOAD_TOO_LARGE"];
    if (error.status === 404) return [404, "NOT_FOUND"];
    if (error.status < 500) return [error.status as ContentfulStatusCode, "INVALID_REQUEST"];
  }
  return [500, "INTERNAL_ERROR"];
}

/** The path for a log line: a client's path can be any length, the line stays readable. */
export function loggedPath(c: Context): string {
  // A ping URL's token is its secret: never in a log line.
  const path = c.req.path.replace(/^\/ping\/[^/]+/, "/ping/…");
  return path.length > 200 ? `${path.slice(0, 200)}… (${path.length} characters)` : path;
}
