/** `/admin/hooks/:id/events/:eventId`: one received event, and replaying it. */
import { Hono } from "hono";
import { HookEventPage } from "../../components/hook_event_page.tsx";
import { hookPath } from "../../components/paths.ts";
import type { AdminEnv } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

export function hookEventRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/:id/events/:eventId", async (c) => {
    const { id, eventId } = c.req.param();
    const event = await deps.inbound.getEvent(c.get("user").id, id, eventId);
    return renderPage(
      c,
      deps.assets,
      { title: event.id, section: "hooks" },
      <HookEventPage t={c.get("t")} csrf={c.get("csrf")} hookId={id} event={event} />,
    );
  });
  app.post("/:id/events/:eventId/replay", async (c) => {
    const { id, eventId } = c.req.param();
    await deps.inbound.replay(c.get("user").id, id, eventId);
    return c.redirect(`${hookPath(id)}/events/${encodeURIComponent(eventId)}`, 303);
  });
  return app;
}
