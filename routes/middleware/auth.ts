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

export function scope(required: Scope): MiddlewareHandler<AuthEnv> {
  return async function scopeMiddleware(c, next) {
    requireScope(c.get("principal"), required);
    await next();
  };
}
