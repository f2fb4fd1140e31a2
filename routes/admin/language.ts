/** The page language: from the `lang` cookie, else the browser's; `/admin/lang` switches it. */
import { Hono, type MiddlewareHandler } from "hono";
import { pickLanguage, translator } from "../../lib/i18n/i18n.ts";
import type { AdminEnv } from "./context.ts";
import { LANG_COOKIE, readCookie, writeCookie } from "./cookies.ts";
import { safeNext } from "./safe_next.ts";

export function language(): MiddlewareHandler<AdminEnv> {
  return async function languageMiddleware(c, next) {
    const lang = pickLanguage(readCookie(c, LANG_COOKIE), c.req.header("accept-language"));
    c.set("lang", lang);
    c.set("t", translator(lang));
    await next();
  };
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
