/** `/admin/account`: change your own password (your other sessions end). */
import { Hono } from "hono";
import { AccountPage } from "../../components/account_page.tsx";
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
      { title: t("Your account"), status: Object.keys(errors).length > 0 ? 400 : 200 },
      <AccountPage
        t={t}
        csrf={c.get("csrf")}
        userId={c.get("user").id}
        errors={errors}
        done={extras.done}
      />,
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
