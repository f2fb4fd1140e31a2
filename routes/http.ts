/** Small helpers every route uses: the success envelope, JSON bodies, pagination. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ValidationError } from "../lib/errors.ts";
import type { Page } from "../lib/store/types.ts";

export function ok<T>(c: Context, data: T, status: ContentfulStatusCode = 200): Response {
  return c.json({ success: true, data }, status);
}

export function okPage<T>(c: Context, page: Page<T>): Response {
  return c.json({ success: true, data: page.values, cursor: page.cursor });
}

export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError("Request body is not valid JSON", null);
  }
}

export function pageParams(c: Context): { cursor?: string; limit: number } {
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new ValidationError("limit must be a whole number from 1 to 200", "limit");
  }
  const cursor = c.req.query("cursor");
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,1024}={0,2}$/.test(cursor)) {
    throw new ValidationError("cursor is not a cursor this API returned", "cursor");
  }
  return { cursor: cursor || undefined, limit };
}

/** The origin the client reached (`https://hibiki.example.com`), for links in answers. */
export function originOf(c: Context): string {
  return new URL(c.req.url).origin;
}
