/** Bearer-key authentication for `/api/*` and per-route scope checks. */
import type { MiddlewareHandler } from "hono";
import { authenticate, type AuthOptions, type Principal, requireScope } from "../../lib/auth.ts";
import type { Scope } from "../../lib/store/types.ts";

export type AuthEnv = { Variables: { principal: Principal } };

export function bearerAuth(options: AuthOptions): MiddlewareHandler<AuthEnv> {
  return async function bearerAuthMiddleware(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    c.set("principal", await authenticate(match ? match[1] : null, options));
    await next();
  };
}

/**
 * Lets a key through when it holds `needed`. Each route needs exactly one scope, and no scope
 * implies another: `write:jobs` does not read jobs, `admin` does not touch them.
 */
export function scope(needed: Scope): MiddlewareHandler<AuthEnv> {
  return async function scopeMiddleware(c, next) {
    requireScope(c.get("principal"), needed);
    await next();
  };
}

/** The user a request acts for (its key's, or its signed-in session's). */
export function userOf(c: { get(key: "principal"): Principal }): string {
  return c.get("principal").userId;
}
