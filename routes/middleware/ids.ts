/**
 * Ids in paths are looked up as Deno KV key parts, and a key over 2 KiB is an error in KV, not
 * a miss: a path segment longer than any id Hibiki makes (the longest are about 40 bytes;
 * client-chosen ones, workers' and users', 64) is answered 404 here, before any route.
 */
import type { MiddlewareHandler } from "hono";
import { NotFoundError } from "../../lib/errors.ts";

/** Far above every id, far below a key's 2 KiB even with two ids in one key. */
export const MAX_ID_BYTES = 256;
/** A segment decodes to at most as many UTF-16 units as it has, each at most 3 UTF-8 bytes. */
const SURELY_SHORT = Math.floor(MAX_ID_BYTES / 3);
const encoder = new TextEncoder();

export function refuseOversizedIds(): MiddlewareHandler {
  return async function refuseOversizedIds(c, next) {
    for (const segment of c.req.path.split("/")) {
      // Almost every request: nothing to decode or encode.
      if (segment.length <= SURELY_SHORT) continue;
      const bytes = encoder.encode(decoded(segment)).length;
      if (bytes > MAX_ID_BYTES) {
        throw new NotFoundError(
          `Not found: "${segment.slice(0, 32)}…" (${segment.length} characters) is longer ` +
            `than any id`,
        );
      }
    }
    await next();
  };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
