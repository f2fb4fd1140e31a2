/** `/admin/keys`: the user's API keys; create with scopes (the key is shown once), revoke. */
import { Hono } from "hono";
import { Csrf, TextField } from "../../components/field.tsx";
import { formatTime } from "../../components/format.ts";
import { Flash } from "../../components/layout.tsx";
import { createApiKey, parseScopes } from "../../lib/auth.ts";
import { ValidationError } from "../../lib/errors.ts";
import { SCOPES } from "../../lib/store/types.ts";
import { type AdminContext, type AdminEnv, formLists } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

export function keyRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  const show = async (
    c: AdminContext,
    extras: { created?: string; error?: string; name?: string } = {},
  ) => {
    const t = c.get("t");
    const keys = await deps.store.listApiKeys(c.get("user").id, { limit: 200 });
    return renderPage(
      c,
      deps.assets,
      {
        title: t("API keys"),
        section: "keys",
        status: extras.error ? 400 : 200,
      },
      (
        <section>
          <h1>{t("API keys")}</h1>
          {extras.created && (
            <Flash kind="ok">
              <p>{t("The new key. It is shown only this once: copy it now.")}</p>
              <p>
                <code class="secret" data-testid="new-key">{extras.created}</code>
              </p>
            </Flash>
          )}
          {keys.values.length === 0 ? <p class="empty">{t("No keys yet.")}</p> : (
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
                {keys.values.map((key) => (
                  <tr>
                    <td>{key.name}</td>
                    <td>
                      <code>{key.prefix}…</code>
                    </td>
                    <td>{key.scopes.map((s) => <code key={s} class="tag">{s}</code>)}</td>
                    <td>{formatTime(key.createdAt)}</td>
                    <td>
                      <form
                        method="post"
                        action={`/admin/keys/${encodeURIComponent(key.id)}/revoke`}
                        class="inline"
                      >
                        <Csrf token={c.get("csrf")} />
                        <button type="submit" class="danger small">{t("Revoke")}</button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>{t("Create a key")}</h2>
          <form method="post" action="/admin/keys" class="narrow">
            <Csrf token={c.get("csrf")} />
            <TextField
              id="key-name"
              name="name"
              label={t("Name")}
              value={extras.name ?? ""}
              required
            />
            <fieldset class={extras.error ? "field-error" : ""}>
              <legend>{t("Scopes")}</legend>
              {SCOPES.map((scope) => (
                <label class="check">
                  <input type="checkbox" name="scopes" value={scope} /> <code>{scope}</code>
                </label>
              ))}
              {extras.error && <p class="error" role="alert">{extras.error}</p>}
            </fieldset>
            <button type="submit" class="primary">{t("Create key")}</button>
          </form>
        </section>
      ),
    );
  };

  app.get("/", (c) => show(c));
  app.post("/", async (c) => {
    const form = await formLists(c);
    const name = (form.name?.[0] ?? "").trim().slice(0, 100);
    const scopes = form.scopes ?? [];
    try {
      const { key } = await createApiKey(deps.store, {
        userId: c.get("user").id,
        name: name || "API key",
        scopes: parseScopes(scopes),
      }, deps.clock.now());
      return show(c, { created: key });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return show(c, { error: error.message, name });
    }
  });
  app.post("/:id/revoke", async (c) => {
    await deps.store.deleteApiKey(c.get("user").id, c.req.param("id"));
    return c.redirect("/admin/keys", 303);
  });
  return app;
}
