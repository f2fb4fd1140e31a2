/**
 * Lets the admin pages' islands call `/api/*` with the signed-in session instead of a key: a
 * request with no `Authorization` header and a valid session cookie acts as that user with every
 * scope (within the user's own tenant, as the pages do). Requests that change something must
 * also send the session's CSRF token in `X-CSRF-Token`: a cookie alone is never enough, and a
 * page on another site cannot read the token. Everything else goes to bearer-key auth.
 */
import type { MiddlewareHandler } from "hono";
import { SCOPES } from "../../lib/store/types.ts";
import type { SessionService } from "../../lib/users/sessions.ts";
import type { AuthEnv } from "../middleware/auth.ts";
import { readCookie, SESSION_COOKIE } from "./cookies.ts";
import { checkCsrf } from "./csrf.ts";

export function sessionOrBearer(options: {
  sessions: SessionService;
  bearer: MiddlewareHandler<AuthEnv>;
}): MiddlewareHandler<AuthEnv> {
  return async function sessionOrBearerMiddleware(c, next) {
    const cookie = c.req.header("authorization") ? undefined : readCookie(c, SESSION_COOKIE);
    const session = cookie ? await options.sessions.resolve(cookie) : null;
    if (!session) return await options.bearer(c, next);
    if (!["GET", "HEAD", "OPTIONS"].includes(c.req.method)) {
      await checkCsrf(c.req.raw, session.csrf, () => Promise.resolve(""));
    }
    c.set("principal", {
      userId: session.userId,
      scopes: SCOPES,
      keyId: "session",
      name: session.userId,
    });
    await next();
  };
}
