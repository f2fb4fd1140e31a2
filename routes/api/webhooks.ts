/** `/api/webhooks` (seed 003) and `/api/deliveries`: a job's webhook and its deliveries. */
import { Hono } from "hono";
import type { WebhookService } from "../../lib/webhooks/webhooks.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

export function webhookRoutes(deps: { webhooks: WebhookService }): Hono<AuthEnv> {
  const { webhooks } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    "/",
    scope("read:logs"),
    async (c) => okPage(c, await webhooks.list(userOf(c), pageParams(c))),
  );
  app.post(
    "/",
    scope("write:logs"),
    async (c) => ok(c, await webhooks.create(userOf(c), await jsonBody(c)), 201),
  );
  app.get(
    "/:jobId",
    scope("read:logs"),
    async (c) => ok(c, await webhooks.get(userOf(c), c.req.param("jobId"))),
  );
  app.patch(
    "/:jobId",
    scope("write:logs"),
    async (c) => ok(c, await webhooks.update(userOf(c), c.req.param("jobId"), await jsonBody(c))),
  );
  app.delete("/:jobId", scope("write:logs"), async (c) => {
    await webhooks.delete(userOf(c), c.req.param("jobId"));
    return ok(c, { message: "Webhookが削除されました" });
  });
  app.post(
    "/:jobId/rotate",
    scope("write:logs"),
    async (c) => ok(c, await webhooks.rotate(userOf(c), c.req.param("jobId"))),
  );
  app.post(
    "/:jobId/test",
    scope("write:logs"),
    async (c) => ok(c, await webhooks.sendTest(userOf(c), c.req.param("jobId")), 202),
  );
  app.get(
    "/:jobId/deliveries",
    scope("read:logs"),
    async (c) =>
      okPage(c, await webhooks.listDeliveries(userOf(c), c.req.param("jobId"), pageParams(c))),
  );
  return app;
}

export function deliveryRoutes(deps: { webhooks: WebhookService }): Hono<AuthEnv> {
  const { webhooks } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    "/:id",
    scope("read:logs"),
    async (c) => ok(c, await webhooks.getDelivery(userOf(c), c.req.param("id"))),
  );
  app.delete("/:id", scope("write:logs"), async (c) => {
    await webhooks.deleteDelivery(userOf(c), c.req.param("id"));
    return ok(c, { message: "Delivery deleted" });
  });
  app.post(
    "/:id/redeliver",
    scope("write:logs"),
    async (c) => ok(c, await webhooks.redeliver(userOf(c), c.req.param("id")), 202),
  );
  return app;
}
