/** `/admin/workers`: probe workers (regions), when each was last seen, the active switch. */
import { Hono } from "hono";
import { WorkersPage } from "../../components/workers_page.tsx";
import { DEFAULT_USER } from "../../lib/auth.ts";
import { ConflictError, ForbiddenError, ValidationError } from "../../lib/errors.ts";
import { WORKER_ID } from "../../lib/store/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

export function workerRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  // Workers serve every tenant, so only the operator changes them (as in the API).
  const operator = (c: AdminContext) => c.get("user").id === DEFAULT_USER;

  const show = async (c: AdminContext, extras: { error?: string; id?: string } = {}) => {
    const t = c.get("t");
    const workers = await deps.workers.list();
    return renderPage(
      c,
      deps.assets,
      { title: t("Workers"), section: "workers", status: extras.error ? 400 : 200 },
      <WorkersPage
        t={t}
        csrf={c.get("csrf")}
        workers={workers}
        operator={operator(c)}
        error={extras.error}
        id={extras.id}
      />,
    );
  };

  app.get("/", (c) => show(c));
  app.post("/", async (c) => {
    if (!operator(c)) throw new ForbiddenError("Only the operator can change workers");
    const id = ((await formOf(c)).id ?? "").trim();
    try {
      if (!WORKER_ID.test(id) || id === "local" || id.startsWith("manual-")) {
        throw new ValidationError("Worker id must be 1-64 letters, digits or _.- (not local)");
      }
      await deps.workers.create({
        id,
        name: id,
        is_active: true,
        last_seen_at: null,
        created_at: new Date(deps.clock.now()).toISOString(),
      });
      return c.redirect("/admin/workers", 303);
    } catch (error) {
      if (!(error instanceof ValidationError) && !(error instanceof ConflictError)) throw error;
      return show(c, { error: error.message, id });
    }
  });
  app.post("/:id/active", async (c) => {
    if (!operator(c)) throw new ForbiddenError("Only the operator can change workers");
    const active = (await formOf(c)).active === "1";
    await deps.workers.update(c.req.param("id"), (w) => ({ ...w, is_active: active }));
    return c.redirect("/admin/workers", 303);
  });
  return app;
}
