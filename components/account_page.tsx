/** `/admin/account`: who is signed in, and the form to change one's own password. */
import type { Translate } from "../lib/i18n/i18n.ts";
import { Csrf, TextField } from "./field.tsx";
import { Flash } from "./layout.tsx";

export interface AccountPageProps {
  t: Translate;
  csrf: string;
  userId: string;
  /** Messages by form field: `current`, `password`. */
  errors: Record<string, string>;
  /** The password was just changed. */
  done?: boolean;
}

export function AccountPage({ t, csrf, userId, errors, done }: AccountPageProps) {
  return (
    <section class="narrow">
      <h1>{t("Your account")}</h1>
      <p>
        {t("Signed in as")} <code>{userId}</code>
      </p>
      {done && <Flash kind="ok">{t("Password changed. Your other sessions have ended.")}</Flash>}
      <form method="post" action="/admin/account">
        <Csrf token={csrf} />
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
  );
}
