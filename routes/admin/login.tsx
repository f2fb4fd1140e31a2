/** `/admin/login` and `/admin/logout`. */
import { Hono } from "hono";
import { LoginPage } from "../../components/login_page.tsx";
import { BASE64URL, randomBytes } from "../../lib/crypto.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import {
  clearCookie,
  PRE_SESSION_COOKIE,
  readCookie,
  SESSION_COOKIE,
  writeCookie,
} from "./cookies.ts";
import type { AdminDeps } from "./deps.ts";
import { checkCsrf } from "./csrf.ts";
import { safeNext } from "./safe_next.ts";
import { renderPage } from "./render.tsx";

export function loginRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  const preToken = async (c: AdminContext) => {
    let pre = readCookie(c, PRE_SESSION_COOKIE);
    if (!pre || !/^[A-Za-z0-9_-]{32}$/.test(pre)) {
      pre = randomBytes(24).toBase64(BASE64URL);
      writeCookie(c, PRE_SESSION_COOKIE, pre, { maxAgeMs: 3_600_000 });
    }
    return await deps.sessions.signedToken(pre);
  };

  const show = async (
    c: AdminContext,
    state: { user?: string; error?: string; status?: 200 | 401 | 403 | 429 },
  ) => {
    const t = c.get("t");
    c.set("csrf", await preToken(c));
    const setup = await deps.users.needsSetup();
    const next = safeNext(c.req.query("next"));
    return renderPage(
      c,
      deps.assets,
      { title: t("Sign in"), signedIn: false, status: state.status },
      <LoginPage
        t={t}
        csrf={c.get("csrf")}
        setup={setup}
        next={next}
        user={state.user}
        error={state.error}
      />,
    );
  };

  app.get("/login", (c) => show(c, {}));
  app.post("/login", async (c) => {
    const t = c.get("t");
    const form = await formOf(c);
    const pre = readCookie(c, PRE_SESSION_COOKIE);
    const expected = pre ? await deps.sessions.signedToken(pre) : "";
    try {
      await checkCsrf(c.req.raw, expected, () => Promise.resolve(form._csrf ?? ""));
    } catch {
      return show(c, {
        user: form.user,
        error: t("The form has expired: reload the page and try again"),
        status: 403,
      });
    }
    const address = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr
      ?.hostname ?? "unknown";
    const result = await deps.users.signIn(form.user ?? "", form.password ?? "", address);
    if (!result.ok) {
      return show(c, {
        user: form.user,
        status: result.reason === "throttled" ? 429 : 401,
        error: result.reason === "throttled"
          ? t("Too many failed sign-ins: try again in {s} s", { s: result.waitSeconds })
          : t("The user or password is wrong"),
      });
    }
    clearCookie(c, PRE_SESSION_COOKIE);
    writeCookie(c, SESSION_COOKIE, result.cookie);
    return c.redirect(safeNext(c.req.query("next")), 303);
  });

  app.post("/logout", async (c) => {
    const session = await deps.sessions.resolve(readCookie(c, SESSION_COOKIE));
    if (session) {
      await checkCsrf(c.req.raw, session.csrf, async () => (await formOf(c))._csrf ?? "");
      await deps.sessions.end(session);
    }
    clearCookie(c, SESSION_COOKIE);
    return c.redirect("/admin/login", 303);
  });
  return app;
}
