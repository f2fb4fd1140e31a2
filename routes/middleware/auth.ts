/** Bearer-key authentication for `/api/*` and per-route scope checks. */
import type { MiddlewareHandler } from "hono";
import {
  authenticate,
  type AuthOptions,
  hasScope,
  type Principal,
  requireScope,
} from "../../lib/auth.ts";
import { ForbiddenError } from "../../lib/errors.ts";
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

/** Lets a key through when it holds `anyOf[0]`, or any other scope listed. */
export function scope(...anyOf: Scope[]): MiddlewareHandler<AuthEnv> {
  return async function scopeMiddleware(c, next) {
    const principal = c.get("principal");
    if (anyOf.length === 1) requireScope(principal, anyOf[0]);
    else if (!anyOf.some((s) => hasScope(principal, s))) {
      throw new ForbiddenError(`This key lacks one of the scopes ${anyOf.join(", ")}`);
    }
    await next();
  };
}

/** The user a request acts for (its key's, or its signed-in session's). */
export function userOf(c: { get(key: "principal"): Principal }): string {
  return c.get("principal").userId;
}
