/** `/admin/keys`: the user's API keys with their scopes, a key just made (shown once), and the
 * form to make one. */
import type { Translate } from "../lib/i18n/i18n.ts";
import { type ApiKey, SCOPES } from "../lib/store/types.ts";
import { Csrf, TextField } from "./field.tsx";
import { Flash } from "./layout.tsx";
import { PageTime } from "./page_clock.tsx";

export interface KeysPageProps {
  t: Translate;
  csrf: string;
  keys: ApiKey[];
  /** A key just made: shown this once. */
  created?: string;
  /** Why the form was refused, and the name to fill in again. */
  error?: string;
  name?: string;
}

export function KeysPage({ t, csrf, keys, created, error, name }: KeysPageProps) {
  return (
    <section>
      <h1>{t("API keys")}</h1>
      {created && (
        <Flash kind="ok">
          <p>{t("The new key. It is shown only this once: copy it now.")}</p>
          <p>
            <code class="secret" data-testid="new-key">{created}</code>
          </p>
        </Flash>
      )}
      {keys.length === 0 ? <p class="empty">{t("No keys yet.")}</p> : (
        <div class="scroll-x">
          <table>
            <thead>
              <tr>
                <th>{t("Name")}</th>
                <th>{t("Key")}</th>
                <th>{t("Scopes")}</th>
                <th>{t("Created")}</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr>
                  <td>{key.name}</td>
                  <td>
                    <code class="key-prefix">{key.prefix}…</code>
                  </td>
                  <td>{key.scopes.map((s) => <code key={s} class="tag">{s}</code>)}</td>
                  <td>
                    <PageTime at={key.createdAt} />
                  </td>
                  <td>
                    <form
                      method="post"
                      action={`/admin/keys/${encodeURIComponent(key.id)}/revoke`}
                      class="inline"
                    >
                      <Csrf token={csrf} />
                      <button type="submit" class="danger small">{t("Revoke")}</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>{t("Create a key")}</h2>
      <form method="post" action="/admin/keys" class="narrow">
        <Csrf token={csrf} />
        <TextField id="key-name" name="name" label={t("Name")} value={name ?? ""} required />
        <fieldset class={error ? "field-error" : ""}>
          <legend>{t("Scopes")}</legend>
          {SCOPES.map((scope) => (
            <label class="check">
              <input type="checkbox" name="scopes" value={scope} /> <code>{scope}</code>
            </label>
          ))}
          {error && <p class="error" role="alert">{error}</p>}
        </fieldset>
        <button type="submit" class="primary">{t("Create key")}</button>
      </form>
    </section>
  );
}
