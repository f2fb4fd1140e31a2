/**
 * Reading a request body with a size cap. What is over the cap is left unread, not cancelled:
 * cancelling a body before the answer is sent makes Deno's server read and discard the rest
 * of it (all 200 MB of an endless upload), while a body dropped after the answer closes the
 * connection. `routes/middleware/body.ts` does that dropping for every request.
 */
import { PayloadTooLargeError, RequestAbortedError } from "./errors.ts";

/**
 * Reads the body, refusing it as soon as it passes `limit`: a declared length over the limit
 * is refused before reading, and an undeclared (chunked) one when the count passes it, so an
 * endless body never sits in memory.
 *
 * @throws {PayloadTooLargeError} the body is larger than `limit`
 * @throws {RequestAbortedError} the client hung up before the end of its body
 */
export async function readCapped(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () => new PayloadTooLargeError(`Request body is larger than ${limit} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) {
    throw tooLarge();
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((error) => {
        throw new RequestAbortedError("Cannot read request body: the client hung up", {
          cause: error,
        });
      });
      if (done) break;
      size += value.length;
      if (size > limit) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/**
 * Reads the body's first `limit` bytes and stops: the rest is left unread (and dropped after
 * the answer, see the module doc), so a large or endless body costs no more than `limit`.
 *
 * @throws {RequestAbortedError} the client hung up before sending `limit` bytes or its end
 */
export async function readHead(
  request: Request,
  limit: number,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; truncated: boolean }> {
  if (!request.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = request.body.getReader();
  const bytes = new Uint8Array(limit);
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((error) => {
        throw new RequestAbortedError("Cannot read request body: the client hung up", {
          cause: error,
        });
      });
      if (done) break;
      const room = limit - size;
      bytes.set(value.length > room ? value.subarray(0, room) : value, size);
      size += Math.min(room, value.length);
      if (value.length > room) {
        truncated = true;
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return { bytes: bytes.slice(0, size), truncated };
}
