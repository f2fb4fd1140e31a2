/** `/api/hooks`: inbound endpoints, their events, and replays. */
import { Hono } from "hono";
import type { InboundHooks } from "../../lib/inbound/inbound_hooks.ts";
import type { HookView } from "../../lib/inbound/types.ts";
import type { Scope } from "../../lib/store/types.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

/**
 * Hooks start and feed jobs, so they take the jobs' scopes as jobs do: reading needs
 * `read:jobs` (a write scope never implies reading), changing needs `write:jobs`.
 */
const READ: Scope = "read:jobs";
const WRITE: Scope = "write:jobs";

export interface HookRouteDeps {
  inbound: InboundHooks;
  /** Public origin of `/hooks/:id` (e.g. behind a proxy); the request's origin when null. */
  publicBaseUrl?: string | null;
}

export function inboundHookRoutes(deps: HookRouteDeps): Hono<AuthEnv> {
  const { inbound } = deps;
  const app = new Hono<AuthEnv>();
  const withUrl = (c: { req: { url: string } }, hook: HookView) => ({
    ...hook,
    url: new URL(hook.path, deps.publicBaseUrl ?? new URL(c.req.url).origin).href,
  });

  app.get("/", scope(READ), async (c) => {
    const page = await inbound.list(userOf(c), pageParams(c));
    return okPage(c, { ...page, values: page.values.map((hook) => withUrl(c, hook)) });
  });
  app.post(
    "/",
    scope(WRITE),
    async (c) => ok(c, withUrl(c, await inbound.create(userOf(c), await jsonBody(c))), 201),
  );
  app.get(
    "/:id",
    scope(READ),
    async (c) => ok(c, withUrl(c, await inbound.get(userOf(c), c.req.param("id")))),
  );
  app.patch("/:id", scope(WRITE), async (c) => {
    const hook = await inbound.update(userOf(c), c.req.param("id"), await jsonBody(c));
    return ok(c, withUrl(c, hook));
  });
  app.delete("/:id", scope(WRITE), async (c) => {
    await inbound.delete(userOf(c), c.req.param("id"));
    return ok(c, { message: "Hook deleted" });
  });
  app.get(
    "/:id/events",
    scope(READ),
    async (c) => okPage(c, await inbound.listEvents(userOf(c), c.req.param("id"), pageParams(c))),
  );
  app.get(
    "/:id/events/:eventId",
    scope(READ),
    async (c) =>
      ok(c, await inbound.getEvent(userOf(c), c.req.param("id"), c.req.param("eventId"))),
  );
  app.post(
    "/:id/events/:eventId/replay",
    scope(WRITE),
    async (c) =>
      ok(c, await inbound.replay(userOf(c), c.req.param("id"), c.req.param("eventId")), 202),
  );
  return app;
}
