/**
 * `/api/channels`: notification channels (issue 12). They decide who hears of a job's
 * outages, so they go with the jobs' scopes: reading needs read:jobs, changing write:jobs.
 */
import { Hono } from "hono";
import type { ChannelService } from "../../lib/alerts/channel_service.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

export function channelRoutes(deps: { channels: ChannelService }): Hono<AuthEnv> {
  const { channels } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    "/",
    scope("read:jobs"),
    async (c) => okPage(c, await channels.list(userOf(c), pageParams(c))),
  );
  app.post(
    "/",
    scope("write:jobs"),
    async (c) => ok(c, await channels.create(userOf(c), await jsonBody(c)), 201),
  );
  app.get(
    "/:id",
    scope("read:jobs"),
    async (c) => ok(c, await channels.get(userOf(c), c.req.param("id"))),
  );
  app.patch(
    "/:id",
    scope("write:jobs"),
    async (c) => ok(c, await channels.update(userOf(c), c.req.param("id"), await jsonBody(c))),
  );
  app.delete("/:id", scope("write:jobs"), async (c) => {
    await channels.delete(userOf(c), c.req.param("id"));
    return ok(c, { message: "Channel deleted" });
  });
  // Answers 200 whatever the receiver said: the answer is what it said.
  app.post(
    "/:id/test",
    scope("write:jobs"),
    async (c) => ok(c, await channels.test(userOf(c), c.req.param("id"))),
  );
  return app;
}
