/** `/admin/keys`: the user's API keys; create with scopes (the key is shown once), revoke. */
import { Hono } from "hono";
import { KeysPage } from "../../components/keys_page.tsx";
import { createApiKey, parseScopes } from "../../lib/auth.ts";
import { ValidationError } from "../../lib/errors.ts";
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
      { title: t("API keys"), section: "keys", status: extras.error ? 400 : 200 },
      <KeysPage t={t} csrf={c.get("csrf")} keys={keys.values} {...extras} />,
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
