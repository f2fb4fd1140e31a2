/** `/admin/users` (administrators): every user with a password reset box, and the form to add
 * one. Each user is its own tenant. */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { User } from "../lib/store/types.ts";
import { Csrf, TextField } from "./field.tsx";
import { Flash } from "./layout.tsx";
import { PageTime } from "./page_clock.tsx";

export interface UsersPageProps {
  t: Translate;
  csrf: string;
  users: User[];
  /** Messages by form field: `id` and `password` of the new user, `reset:<id>` of a reset. */
  errors: Record<string, string>;
  /** The new user's id to fill in again. */
  id?: string;
  notice?: string;
}

export function UsersPage({ t, csrf, users, errors, id, notice }: UsersPageProps) {
  return (
    <section>
      <h1>{t("Users")}</h1>
      {notice && <Flash kind="ok">{notice}</Flash>}
      <p class="hint">
        {t("Each user is a tenant: it sees only its own jobs, keys and hooks.")}
      </p>
      <div class="scroll-x">
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
            {users.map((user) => (
              <tr>
                <td>
                  <code>{user.id}</code>
                </td>
                <td>{user.admin ? t("Administrator") : t("Member")}</td>
                <td>
                  <PageTime at={user.createdAt} />
                </td>
                <td>
                  <form
                    method="post"
                    action={`/admin/users/${encodeURIComponent(user.id)}/password`}
                    class="inline"
                  >
                    <Csrf token={csrf} />
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
      </div>
      <h2>{t("Add a user")}</h2>
      <form method="post" action="/admin/users" class="narrow">
        <Csrf token={csrf} />
        <TextField
          id="new-user"
          name="id"
          label={t("User")}
          value={id ?? ""}
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
  );
}
