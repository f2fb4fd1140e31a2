/** What an admin page shows when a request fails: the message, and a way back. */
import type { Translate } from "../lib/i18n/i18n.ts";

export function ErrorPage({ t, title, message }: { t: Translate; title: string; message: string }) {
  return (
    <section class="narrow">
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href="/admin">{t("Back to the dashboard")}</a>
      </p>
    </section>
  );
}
