/**
 * `/admin/credentials`: the user's Google service-account keys, listed by id, email, key id and
 * project only (a key is never shown again), each with a delete box; and the form to add one.
 */
import type { CredentialView } from "../lib/gcp/credentials.ts";
import { ENV_CREDENTIAL_ID } from "../lib/gcp/credentials.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { Csrf, Field } from "./field.tsx";
import { Flash } from "./layout.tsx";
import { PageTime } from "./page_clock.tsx";

export interface CredentialsPageProps {
  t: Translate;
  csrf: string;
  credentials: CredentialView[];
  /** The key just added, named in a notice. */
  added?: CredentialView;
  /** Why the key in the form was refused. */
  error?: string;
  /** Why deleting one key was refused, shown in its row. */
  deleteError?: { id: string; message: string };
}

export function CredentialsPage(props: CredentialsPageProps) {
  const { t, csrf, credentials, added, error } = props;
  const path = (id: string) => `/admin/credentials/${encodeURIComponent(id)}`;
  return (
    <section>
      <h1>{t("Credentials")}</h1>
      <p class="hint">
        {t(
          "Google service account keys that Cloud Run jobs run with. A key is stored sealed and never shown again.",
        )}
      </p>
      {added && (
        <Flash kind="ok">
          {t("Added the key of {email} as {id}.", { email: added.client_email, id: added.id })}
        </Flash>
      )}
      {credentials.length === 0
        ? <p class="empty">{t("No credentials yet.")}</p>
        : (
          <div class="scroll-x">
            <table class="credentials">
              <thead>
                <tr>
                  <th>{t("Id")}</th>
                  <th>{t("Service account")}</th>
                  <th>{t("Key id")}</th>
                  <th>{t("Project")}</th>
                  <th>{t("Created")}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {credentials.map((cred) => (
                  <tr data-credential={cred.id}>
                    <td>
                      <code>{cred.id}</code>
                    </td>
                    <td data-testid="client-email">{cred.client_email}</td>
                    <td>
                      <code>{cred.private_key_id}</code>
                    </td>
                    <td>{cred.project_id}</td>
                    <td>
                      {cred.id === ENV_CREDENTIAL_ID
                        ? t("From GCP_SERVICE_ACCOUNT")
                        : <PageTime at={cred.createdAt} />}
                    </td>
                    <td>
                      {cred.id !== ENV_CREDENTIAL_ID && (
                        <form method="post" action={`${path(cred.id)}/delete`} class="inline">
                          <Csrf token={csrf} />
                          <label class="check">
                            <input type="checkbox" name="confirm" value="1" required />{" "}
                            {t("Yes, delete it")}
                          </label>
                          <button type="submit" class="danger small">{t("Delete")}</button>
                        </form>
                      )}
                      {props.deleteError?.id === cred.id && (
                        <p class="error" role="alert">{props.deleteError.message}</p>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <h2>{t("Add a key")}</h2>
      <form
        method="post"
        action="/admin/credentials"
        enctype="multipart/form-data"
        class="narrow"
        novalidate
      >
        <Csrf token={csrf} />
        <Field
          id="credential-key"
          label={t("Key JSON")}
          error={error}
          hint={t("Paste the JSON key file of a service account, or choose the file below.")}
        >
          <textarea
            id="credential-key"
            name="key"
            rows={6}
            spellcheck={false}
            autocomplete="off"
            placeholder='{"type": "service_account", …}'
            aria-invalid={error ? "true" : undefined}
            aria-describedby={error ? "credential-key-error" : undefined}
          >
          </textarea>
        </Field>
        <Field id="credential-file" label={t("Key file")}>
          <input id="credential-file" name="keyFile" type="file" accept="application/json,.json" />
        </Field>
        <button type="submit" class="primary">{t("Add key")}</button>
      </form>
    </section>
  );
}
