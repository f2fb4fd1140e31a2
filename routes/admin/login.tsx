/** `/admin/login` and `/admin/logout`. */
import { Hono } from "hono";
import { Csrf, TextField } from "../../components/field.tsx";
import { Flash } from "../../components/layout.tsx";
import { randomBytes, toBase64Url } from "../../lib/crypto.ts";
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
      pre = toBase64Url(randomBytes(24));
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
      {
        title: t("Sign in"),
        signedIn: false,
        status: state.status,
      },
      (
        <section class="narrow login">
          <h1>{t("Sign in to Hibiki")}</h1>
          {setup && (
            <Flash kind="error">
              <p>{t("No password is set yet, so nobody can sign in.")}</p>
              <p>
                {t("Start Hibiki with the password of the user default in HIBIKI_ADMIN_PASSWORD:")}
              </p>
              <pre>HIBIKI_ADMIN_PASSWORD='a long secret' deno task start</pre>
            </Flash>
          )}
          {state.error && <Flash kind="error">{state.error}</Flash>}
          <form method="post" action={`/admin/login?next=${encodeURIComponent(next)}`}>
            <Csrf token={c.get("csrf")} />
            <TextField
              id="login-user"
              name="user"
              label={t("User")}
              value={state.user ?? "default"}
              autocomplete="username"
              required
            />
            <TextField
              id="login-password"
              name="password"
              label={t("Password")}
              type="password"
              autocomplete="current-password"
              required
            />
            <button type="submit" class="primary">{t("Sign in")}</button>
          </form>
        </section>
      ),
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
