/** `/admin/login`: the sign-in form, and how to set the first password when none is set. */
import type { Translate } from "../lib/i18n/i18n.ts";
import { Csrf, TextField } from "./field.tsx";
import { Flash } from "./layout.tsx";

export interface LoginPageProps {
  t: Translate;
  csrf: string;
  /** No password is set yet: nobody can sign in until one is. */
  setup: boolean;
  /** Where to go once signed in (already checked to be an admin page). */
  next: string;
  /** The user to fill in again after a refusal. */
  user?: string;
  error?: string;
}

export function LoginPage({ t, csrf, setup, next, user, error }: LoginPageProps) {
  return (
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
      {error && <Flash kind="error">{error}</Flash>}
      <form method="post" action={`/admin/login?next=${encodeURIComponent(next)}`}>
        <Csrf token={csrf} />
        <TextField
          id="login-user"
          name="user"
          label={t("User")}
          value={user ?? "default"}
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
  );
}
