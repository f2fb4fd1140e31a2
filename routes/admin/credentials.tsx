/**
 * `/admin/credentials`: the user's Google service-account keys for Cloud Run jobs. A key is
 * pasted or uploaded (a multipart form, capped before it is read), checked and sealed by
 * CredentialService, and never shown again: the page lists only its id, email, key id and
 * project. Like `/api/credentials` (scope `admin`), a signed-in user manages its own tenant's
 * keys; the session acts with every scope within that tenant (see api_session.ts).
 */
import { Hono } from "hono";
import { CredentialsPage } from "../../components/credentials_page.tsx";
import { ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

/** A real key file is about 2.3 KB; the service refuses more than this too. */
export const KEY_LIMIT = 64 * 1024;
/** The whole form: a pasted key, a file, the token and multipart framing. */
export const CREDENTIAL_FORM_LIMIT = 2 * KEY_LIMIT + 8 * 1024;

export function credentialRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;

  const show = async (
    c: AdminContext,
    extras: { error?: string; deleteError?: { id: string; message: string }; added?: string } = {},
  ) => {
    const t = c.get("t");
    const credentials = await deps.credentials.list(userOf(c));
    return renderPage(
      c,
      deps.assets,
      {
        title: t("Credentials"),
        section: "credentials",
        status: extras.error || extras.deleteError ? 400 : 200,
      },
      <CredentialsPage
        t={t}
        csrf={c.get("csrf")}
        credentials={credentials}
        added={extras.added ? credentials.find((cred) => cred.id === extras.added) : undefined}
        error={extras.error}
        deleteError={extras.deleteError}
      />,
    );
  };

  app.get("/", (c) => {
    const added = c.req.query("added");
    return show(c, { added: added && /^[\w-]{1,100}$/.test(added) ? added : undefined });
  });
  app.post("/", async (c) => {
    const t = c.get("t");
    // Already read (and capped) by the session check; Hono keeps the parse.
    const body = await c.req.parseBody({ all: true });
    const file = [body.keyFile].flat().find((v): v is File => v instanceof File && v.size > 0);
    const pasted = [body.key].flat().find((v): v is string => typeof v === "string") ?? "";
    try {
      let key: string;
      if (file) {
        if (file.size > KEY_LIMIT) {
          throw new ValidationError(t("The key file is larger than 64 KiB: it is not a key"));
        }
        key = await file.text();
      } else {
        key = pasted.trim();
      }
      if (key === "") throw new ValidationError(t("Paste a key or choose a key file"));
      if (key.length > KEY_LIMIT) {
        throw new ValidationError(t("The key file is larger than 64 KiB: it is not a key"));
      }
      const created = await deps.credentials.create(userOf(c), {
        type: "gcp_service_account",
        key,
      });
      return c.redirect(`/admin/credentials?added=${encodeURIComponent(created.id)}`, 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // The key is not echoed back: the form comes back empty.
      return show(c, { error: error.message });
    }
  });
  app.post("/:id/delete", async (c) => {
    const id = c.req.param("id");
    const form = await c.req.parseBody({ all: true });
    if (form.confirm !== "1") {
      return show(c, {
        deleteError: { id, message: c.get("t")("Tick the box to confirm the deletion") },
      });
    }
    try {
      await deps.credentials.delete(userOf(c), id);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return show(c, { deleteError: { id, message: error.message } });
    }
    return c.redirect("/admin/credentials", 303);
  });
  return app;
}
