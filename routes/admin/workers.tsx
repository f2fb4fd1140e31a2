/** `/admin/workers`: probe workers (regions), when each was last seen, the active switch. */
import { Hono } from "hono";
import { Csrf, TextField } from "../../components/field.tsx";
import { formatTime, stateClass } from "../../components/format.ts";
import { DEFAULT_USER } from "../../lib/auth.ts";
import { ConflictError, ForbiddenError, ValidationError } from "../../lib/errors.ts";
import { WORKER_ID } from "../../lib/store/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import type { AdminDeps } from "./mod.ts";
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
      {
        title: t("Workers"),
        section: "workers",
        status: extras.error ? 400 : 200,
      },
      (
        <section>
          <h1>{t("Workers")}</h1>
          <p class="hint">
            {t("Probe workers check jobs from other regions and report through the edge API.")}
          </p>
          {workers.length === 0 ? <p class="empty">{t("No workers yet.")}</p> : (
            <table>
              <thead>
                <tr>
                  <th>{t("Region")}</th>
                  <th>{t("Name")}</th>
                  <th>{t("State")}</th>
                  <th>{t("Last seen")}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <tr>
                    <td>
                      <code>{w.id}</code>
                    </td>
                    <td>{w.name}</td>
                    <td>
                      <span class={stateClass(w.is_active ? "up" : "paused")}>
                        {w.is_active ? t("Active") : t("Inactive")}
                      </span>
                    </td>
                    <td>{formatTime(w.last_seen_at)}</td>
                    <td>
                      {operator(c) && (
                        <form
                          method="post"
                          action={`/admin/workers/${encodeURIComponent(w.id)}/active`}
                          class="inline"
                        >
                          <Csrf token={c.get("csrf")} />
                          <input type="hidden" name="active" value={w.is_active ? "0" : "1"} />
                          <button type="submit" class="small">
                            {w.is_active ? t("Deactivate") : t("Activate")}
                          </button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {operator(c) && (
            <>
              <h2>{t("Add a worker")}</h2>
              <form method="post" action="/admin/workers" class="narrow">
                <Csrf token={c.get("csrf")} />
                <TextField
                  id="worker-id"
                  name="id"
                  label={t("Worker id")}
                  value={extras.id ?? ""}
                  error={extras.error}
                  placeholder="aws-tyo1a"
                  required
                />
                <button type="submit" class="primary">{t("Add worker")}</button>
              </form>
            </>
          )}
        </section>
      ),
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
