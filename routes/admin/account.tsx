/** `/admin/account`: change your own password (your other sessions end). */
import { Hono } from "hono";
import { Csrf, TextField } from "../../components/field.tsx";
import { Flash } from "../../components/layout.tsx";
import { ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

export function accountRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  const show = (
    c: AdminContext,
    extras: { errors?: Record<string, string>; done?: boolean } = {},
  ) => {
    const t = c.get("t");
    const errors = extras.errors ?? {};
    return renderPage(
      c,
      deps.assets,
      {
        title: t("Your account"),
        status: Object.keys(errors).length > 0 ? 400 : 200,
      },
      (
        <section class="narrow">
          <h1>{t("Your account")}</h1>
          <p>
            {t("Signed in as")} <code>{c.get("user").id}</code>
          </p>
          {extras.done && (
            <Flash kind="ok">{t("Password changed. Your other sessions have ended.")}</Flash>
          )}
          <form method="post" action="/admin/account">
            <Csrf token={c.get("csrf")} />
            <TextField
              id="current-password"
              name="current"
              label={t("Current password")}
              type="password"
              autocomplete="current-password"
              error={errors.current}
              required
            />
            <TextField
              id="account-new-password"
              name="password"
              label={t("New password")}
              type="password"
              autocomplete="new-password"
              error={errors.password}
              hint={t("At least 12 characters")}
              required
            />
            <button type="submit" class="primary">{t("Change password")}</button>
          </form>
        </section>
      ),
    );
  };

  app.get("/", (c) => show(c));
  app.post("/", async (c) => {
    const form = await formOf(c);
    try {
      await deps.users.changeOwnPassword(c.get("session"), form.current ?? "", form.password ?? "");
      return show(c, { done: true });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return show(c, { errors: { [error.field ?? "password"]: error.message } });
    }
  });
  return app;
}
