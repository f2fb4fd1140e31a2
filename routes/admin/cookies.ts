/** The admin cookies: names and flags in one place. */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_TTL_MS } from "../../lib/users/sessions.ts";

/** Over https the cookie gets `Secure` and the `__Host-` prefix (no Domain, Path=/). */
function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto") === "https";
}

function name(c: Context, base: string): string {
  return isHttps(c) ? `__Host-${base}` : base;
}

export function readCookie(c: Context, base: string): string | undefined {
  return getCookie(c, name(c, base));
}

export function writeCookie(
  c: Context,
  base: string,
  value: string,
  options: { maxAgeMs?: number } = {},
): void {
  setCookie(c, name(c, base), value, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: Math.floor((options.maxAgeMs ?? SESSION_TTL_MS) / 1000),
  });
}

export function clearCookie(c: Context, base: string): void {
  deleteCookie(c, name(c, base), { path: "/", secure: isHttps(c) });
}

export const SESSION_COOKIE = "hibiki_session";
/** Random value the sign-in form's CSRF token is bound to, before there is a session. */
export const PRE_SESSION_COOKIE = "hibiki_pre";
export const LANG_COOKIE = "hibiki_lang";
/** The viewer's time zone, written by the pages' scripts (islands/hydrate.ts), never httpOnly. */
export { ZONE_COOKIE } from "../../components/relative_time.ts";
