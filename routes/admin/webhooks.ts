/**
 * The webhook panel's actions on the job page. Creating and rotating answer with the job page
 * itself, showing the new secret this once (nothing keeps it for a later page).
 */
import { Hono } from "hono";
import { jobPath } from "../../components/paths.ts";
import { ConflictError, ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import { renderJobPage } from "./render_job_page.tsx";
import type { AdminDeps } from "./deps.ts";

export function webhookRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const back = (id: string) => `${jobPath(id)}#webhook`;

  /** Runs `action`; a refusal the user can act on shows in the panel instead of an error page. */
  const attempt = async (
    c: AdminContext,
    action: () => Promise<Response>,
    endpointValue?: string,
  ) => {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ValidationError) && !(error instanceof ConflictError)) throw error;
      return renderJobPage(c, deps, c.req.param("id")!, {
        status: error instanceof ValidationError ? 400 : 409,
        webhook: { error: error.message, endpointValue },
      });
    }
  };

  app.post("/:id/webhook", async (c) => {
    const form = await formOf(c);
    return attempt(c, async () => {
      const created = await deps.webhooks.create(userOf(c), {
        jobId: c.req.param("id"),
        endpoint: (form.endpoint ?? "").trim(),
      });
      return renderJobPage(c, deps, c.req.param("id"), {
        webhook: { revealedSecret: created.secret },
      });
    }, form.endpoint);
  });
  app.post("/:id/webhook/rotate", (c) =>
    attempt(c, async () => {
      const rotated = await deps.webhooks.rotate(userOf(c), c.req.param("id"));
      return renderJobPage(c, deps, c.req.param("id"), {
        webhook: { revealedSecret: rotated.secret },
      });
    }));
  app.post("/:id/webhook/test", (c) =>
    attempt(c, async () => {
      await deps.webhooks.sendTest(userOf(c), c.req.param("id"));
      return c.redirect(back(c.req.param("id")), 303);
    }));
  app.post("/:id/webhook/enable", (c) =>
    attempt(c, async () => {
      await deps.webhooks.update(userOf(c), c.req.param("id"), { enabled: true });
      return c.redirect(back(c.req.param("id")), 303);
    }));
  app.post("/:id/webhook/delete", (c) =>
    attempt(c, async () => {
      await deps.webhooks.delete(userOf(c), c.req.param("id"));
      return c.redirect(back(c.req.param("id")), 303);
    }));
  app.post("/:id/deliveries/:deliveryId/redeliver", (c) =>
    attempt(c, async () => {
      const delivery = await deps.webhooks.getDelivery(userOf(c), c.req.param("deliveryId"));
      if (delivery.jobId !== c.req.param("id")) {
        throw new ValidationError("Delivery of another job");
      }
      await deps.webhooks.redeliver(userOf(c), delivery.id);
      return c.redirect(back(c.req.param("id")), 303);
    }));
  return app;
}
