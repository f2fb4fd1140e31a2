/** `/admin/users` (administrators): add users, each its own tenant, and reset passwords. */
import { Hono } from "hono";
import { UsersPage } from "../../components/users_page.tsx";
import { ConflictError, ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

export function userRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  const show = async (
    c: AdminContext,
    extras: { errors?: Record<string, string>; id?: string; notice?: string } = {},
  ) => {
    const t = c.get("t");
    const users = await deps.users.list(c.get("user"), { limit: 200 });
    const errors = extras.errors ?? {};
    return renderPage(
      c,
      deps.assets,
      { title: t("Users"), section: "users", status: Object.keys(errors).length > 0 ? 400 : 200 },
      <UsersPage
        t={t}
        csrf={c.get("csrf")}
        users={users.values}
        errors={errors}
        id={extras.id}
        notice={extras.notice}
      />,
    );
  };

  app.get("/", (c) => show(c));
  app.post("/", async (c) => {
    const form = await formOf(c);
    try {
      await deps.users.add(c.get("user"), {
        id: form.id ?? "",
        password: form.password ?? "",
        admin: form.admin === "1",
      });
      return c.redirect("/admin/users", 303);
    } catch (error) {
      if (error instanceof ValidationError) {
        return show(c, { errors: { [error.field ?? "id"]: error.message }, id: form.id });
      }
      if (error instanceof ConflictError) {
        return show(c, { errors: { id: error.message }, id: form.id });
      }
      throw error;
    }
  });
  app.post("/:id/password", async (c) => {
    const id = c.req.param("id");
    try {
      await deps.users.resetPassword(c.get("user"), id, (await formOf(c)).password ?? "");
      return show(c, {
        notice: c.get("t")("Password of {user} reset; their sessions ended", { user: id }),
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return show(c, { errors: { [`reset:${id}`]: error.message } });
    }
  });
  return app;
}
