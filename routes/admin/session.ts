/**
 * Every admin page but sign-in needs a session: a GET without one goes to the sign-in page, a
 * POST is refused (its form would be lost anyway) and must carry the session's CSRF token.
 */
import type { MiddlewareHandler } from "hono";
import { ForbiddenError } from "../../lib/errors.ts";
import { type AdminEnv, formOf } from "./context.ts";
import { readCookie, SESSION_COOKIE } from "./cookies.ts";
import { checkCsrf } from "./csrf.ts";
import type { AdminDeps } from "./deps.ts";

export function requireSession(
  deps: Pick<AdminDeps, "sessions" | "users">,
): MiddlewareHandler<AdminEnv> {
  return async function requireSessionMiddleware(c, next) {
    const session = await deps.sessions.resolve(readCookie(c, SESSION_COOKIE));
    const user = session && await deps.users.get(session.userId);
    if (!session || !user) {
      if (c.req.method === "GET" || c.req.method === "HEAD") {
        const url = new URL(c.req.url);
        return c.redirect(`/admin/login?next=${encodeURIComponent(url.pathname + url.search)}`);
      }
      throw new ForbiddenError("Your session has ended: sign in again");
    }
    c.set("session", session);
    c.set("user", user);
    c.set("csrf", session.csrf);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      await checkCsrf(c.req.raw, session.csrf, async () => (await formOf(c))._csrf ?? "");
    }
    return await next();
  };
}
