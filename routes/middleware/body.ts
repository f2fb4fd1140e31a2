/**
 * Request bodies a route does not read to the end: an answered 413, a 401 or a 404 before
 * reading, a client that sends forever. Deno's server, told to drop a body before the answer
 * is sent, reads and discards the rest of it (an endless upload runs on at full speed, 200 MB
 * in a tenth of a second); dropped after the answer, the body is cut and the connection
 * closed. So the rest is dropped only once the answer has gone, after a short pause that lets
 * the client read it: closing a socket with unread input resets the connection, and a reset
 * can discard an answer the client has not read yet. Until then the server reads nothing
 * more; the client waits on full socket buffers.
 */
import type { Context, MiddlewareHandler } from "hono";
import { PayloadTooLargeError } from "../../lib/errors.ts";
import { readCapped } from "../../lib/request_body.ts";

/** How long the answer has to reach the client before an unread body's connection closes. */
const LINGER_MS = 250;

/** Drops what a route left of the request body, after the answer is sent. */
export function dropUnreadBody(): MiddlewareHandler {
  return async function dropUnreadBody(c, next) {
    // Taken before the route runs: the request can no longer be read once it is answered.
    const body = c.req.raw.body;
    await next();
    if (body) void dropAfter(body, c);
  };
}

export interface BodyLimitOptions {
  maxBytes: number;
  /** The error to throw for a larger body; a PayloadTooLargeError by default. */
  tooLarge?: (error: PayloadTooLargeError) => Error;
}

/**
 * Reads the whole body up front, refusing one over `maxBytes` without reading the rest
 * (`hono/body-limit` keeps its hold on a refused body, so it could never be dropped).
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  return async function bodyLimit(c, next) {
    const raw = c.req.raw;
    if (raw.body) {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await readCapped(raw, options.maxBytes);
      } catch (error) {
        if (error instanceof PayloadTooLargeError && options.tooLarge) {
          throw options.tooLarge(error);
        }
        throw error;
      }
      // Not `new Request(raw, …)`: that would copy the served request's abort signal.
      c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: bytes });
    }
    await next();
  };
}

/** Settles when the answer is sent, or at once when the app is called in-process. */
function answerSent(c: Context): Promise<void> {
  const completed = (c.env as Partial<Deno.ServeHandlerInfo> | undefined)?.completed;
  if (!completed) return Promise.resolve();
  return completed.then(
    () => new Promise((resolve) => setTimeout(resolve, LINGER_MS)),
    // The answer could not be sent: the client is gone, nothing to wait for.
    () => {},
  );
}

async function dropAfter(body: ReadableStream<Uint8Array>, c: Context): Promise<void> {
  // A body still held is being read (a route that streams it); one read to the end is done.
  // Only then a timer: most requests' bodies were read whole, and need none.
  if (body.locked || await isFinished(body)) return;
  await answerSent(c);
  await body.cancel().catch(() => {});
}

/** Whether the body was read to its end, without waiting for more of it. */
async function isFinished(body: ReadableStream<Uint8Array>): Promise<boolean> {
  const reader = body.getReader();
  try {
    // A finished stream answers a read at once; an unfinished one may wait for the client.
    const first = await Promise.race([reader.read(), Promise.resolve(null)]);
    return first?.done === true;
  } catch {
    return true;
  } finally {
    reader.releaseLock();
  }
}
