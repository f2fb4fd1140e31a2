/**
 * `POST /hooks/:id`: the public inbound endpoint (seed 001). No API key: each hook verifies
 * its sender itself. A 2xx means the request is stored; the action runs later from the queue.
 */
import { Hono } from "hono";
import type { InboundReceiver } from "../lib/inbound/inbound_receiver.ts";
import { errorBody } from "./middleware/errors.ts";

export function hookRoutes(deps: { inboundReceiver: InboundReceiver }): Hono {
  const app = new Hono();
  app.post("/:id", async (c) => {
    const result = await deps.inboundReceiver.receive(c.req.param("id"), c.req.raw);
    switch (result.kind) {
      case "accepted":
        return c.json({ success: true, data: { eventId: result.eventId, duplicate: false } });
      case "duplicate":
        return c.json({ success: true, data: { eventId: result.eventId, duplicate: true } });
      case "conflict": {
        // Stored, so 2xx like any stored request: an error would have the sender retry the
        // same conflict for days. The event shows it, and its action waits for a person.
        const { eventId, conflictOf } = result;
        return c.json({ success: true, data: { eventId, duplicate: false, conflictOf } });
      }
      case "challenge":
        if (result.shape === "slack") return c.json({ challenge: result.challenge });
        // The value is the sender's own text: never let a browser take it for HTML.
        c.header("X-Content-Type-Options", "nosniff");
        return c.text(result.challenge);
      case "rejected":
        return c.json(errorBody("UNAUTHORIZED", result.message), 401);
    }
  });
  app.all("/:id", (c) => {
    c.header("Allow", "POST");
    return c.json(errorBody("METHOD_NOT_ALLOWED", `Use POST to send to a hook`), 405);
  });
  return app;
}
