/**
 * Who is looking and when: the page language (the `lang` cookie, else the browser's;
 * `/admin/lang` switches it), the viewer's time zone (a cookie the pages' scripts set) and the
 * time the request came in, which "3 minutes ago" on the page counts from.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { type Clock, systemClock } from "../../lib/clock.ts";
import { pickLanguage, translator } from "../../lib/i18n/i18n.ts";
import type { AdminEnv } from "./context.ts";
import { LANG_COOKIE, readCookie, writeCookie, ZONE_COOKIE } from "./cookies.ts";
import { safeNext } from "./safe_next.ts";

export function language(clock: Clock = systemClock): MiddlewareHandler<AdminEnv> {
  return async function languageMiddleware(c, next) {
    const lang = pickLanguage(readCookie(c, LANG_COOKIE), c.req.header("accept-language"));
    c.set("lang", lang);
    c.set("t", translator(lang));
    c.set("zone", viewerZone(readCookie(c, ZONE_COOKIE)));
    c.set("now", clock.now());
    await next();
  };
}

/** Zones seen valid; only valid ones are kept, so the map is bounded by the zone database. */
const knownZones = new Map<string, string>();

/** The zone a cookie names, if it is one this runtime knows; anything else is no zone. */
export function viewerZone(value: string | undefined): string | null {
  if (!value || value.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(value)) return null;
  const known = knownZones.get(value);
  if (known) return known;
  try {
    const zone = new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
    knownZones.set(value, zone);
    return zone;
  } catch {
    return null;
  }
}

export function languageRoutes(): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.get("/lang", (c) => {
    const to = c.req.query("to") === "ja" ? "ja" : "en";
    writeCookie(c, LANG_COOKIE, to, { maxAgeMs: 365 * 86_400_000 });
    return c.redirect(safeNext(c.req.query("back")), 303);
  });
  return app;
}
