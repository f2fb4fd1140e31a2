/** `/admin/users` (administrators): add users, each its own tenant, and reset passwords. */
import { Hono } from "hono";
import { Csrf, TextField } from "../../components/field.tsx";
import { formatTime } from "../../components/format.ts";
import { Flash } from "../../components/layout.tsx";
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
      {
        title: t("Users"),
        section: "users",
        status: Object.keys(errors).length > 0 ? 400 : 200,
      },
      (
        <section>
          <h1>{t("Users")}</h1>
          {extras.notice && <Flash kind="ok">{extras.notice}</Flash>}
          <p class="hint">
            {t("Each user is a tenant: it sees only its own jobs, keys and hooks.")}
          </p>
          <table>
            <thead>
              <tr>
                <th>{t("User")}</th>
                <th>{t("Role")}</th>
                <th>{t("Created")}</th>
                <th>{t("Reset password")}</th>
              </tr>
            </thead>
            <tbody>
              {users.values.map((user) => (
                <tr>
                  <td>
                    <code>{user.id}</code>
                  </td>
                  <td>{user.admin ? t("Administrator") : t("Member")}</td>
                  <td>{formatTime(user.createdAt)}</td>
                  <td>
                    <form
                      method="post"
                      action={`/admin/users/${encodeURIComponent(user.id)}/password`}
                      class="inline"
                    >
                      <Csrf token={c.get("csrf")} />
                      <label class="sr-only" for={`reset-${user.id}`}>{t("New password")}</label>
                      <input
                        id={`reset-${user.id}`}
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        placeholder={t("New password")}
                        required
                      />
                      <button type="submit" class="small">{t("Reset")}</button>
                    </form>
                    {errors[`reset:${user.id}`] && (
                      <p class="error" role="alert">{errors[`reset:${user.id}`]}</p>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>{t("Add a user")}</h2>
          <form method="post" action="/admin/users" class="narrow">
            <Csrf token={c.get("csrf")} />
            <TextField
              id="new-user"
              name="id"
              label={t("User")}
              value={extras.id ?? ""}
              error={errors.id}
              required
            />
            <TextField
              id="new-password"
              name="password"
              label={t("Password")}
              type="password"
              autocomplete="new-password"
              error={errors.password}
              hint={t("At least 12 characters")}
              required
            />
            <label class="check">
              <input type="checkbox" name="admin" value="1" /> {t("Administrator")}
            </label>
            <button type="submit" class="primary">{t("Add user")}</button>
          </form>
        </section>
      ),
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
