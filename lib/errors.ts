/**
 * Typed errors thrown by the domain. They are mapped to HTTP responses once, in
 * `routes/middleware/errors.ts`; nothing else decides status codes for failures.
 */

/** Bad input: names the failing field so clients can show the message beside it. */
export class ValidationError extends RangeError {
  override name = "ValidationError";
  constructor(message: string, readonly field: string | null = null) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
}

export class UnauthorizedError extends Error {
  override name = "UnauthorizedError";
}

export class ForbiddenError extends Error {
  override name = "ForbiddenError";
}

export class ConflictError extends Error {
  override name = "ConflictError";
}

export class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
}

/** The client closed the connection before its request body was read: nobody to answer. */
export class RequestAbortedError extends Error {
  override name = "RequestAbortedError";
}
