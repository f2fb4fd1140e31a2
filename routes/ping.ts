/**
 * `/ping/:token`: heartbeat pings (lib/heartbeat/ping_receiver.ts). No key: the token is the
 * secret. GET, POST and HEAD (Hono answers HEAD with the GET route); `/start`, `/fail` and
 * `/<exit code 0–255>` after the token. Answers are short plain text, as ping clients expect:
 * `OK` once stored, a bare 404 for an unknown token, 429 with Retry-After over the limit.
 * Nothing here logs a path: it holds the token.
 */
import { type Context, Hono } from "hono";
import type { PingKind, PingReceiver } from "../lib/heartbeat/ping_receiver.ts";

export function pingRoutes(deps: { pings: PingReceiver }): Hono {
  const app = new Hono();
  const answer = async (c: Context, kind: PingKind, exitCode?: number) => {
    const remote = (c.env as Partial<Deno.ServeHandlerInfo> | undefined)?.remoteAddr;
    let outcome;
    try {
      outcome = await deps.pings.receive({
        token: c.req.param("token") ?? "",
        kind,
        exitCode,
        request: c.req.raw,
        source: remote && "hostname" in remote ? remote.hostname : null,
      });
    } catch (error) {
      // Not the shared error handler: it would log the path, and with it the token.
      console.error(`Cannot record a ping: ${(error as Error).message}`);
      return c.text("Cannot record the ping: try again", 503);
    }
    switch (outcome.kind) {
      case "ok":
        return c.text("OK");
      case "not_found":
        return c.text("Not found", 404);
      case "rate_limited":
        c.header("Retry-After", String(outcome.retryAfterSeconds));
        return c.text("Too many pings: wait and send again", 429);
    }
  };
  const methods = ["GET", "POST"];
  app.on(methods, "/:token", (c) => answer(c, "success"));
  app.on(methods, "/:token/start", (c) => answer(c, "start"));
  app.on(methods, "/:token/fail", (c) => answer(c, "fail"));
  app.on(methods, "/:token/:code{[0-9]{1,3}}", (c) => {
    const code = Number(c.req.param("code"));
    if (code > 255) return c.text("Exit code must be 0 to 255", 400);
    return answer(c, "exit", code);
  });
  app.all("*", (c) => {
    if (!methods.includes(c.req.method)) {
      c.header("Allow", "GET, HEAD, POST");
      return c.text("Method not allowed", 405);
    }
    return c.text("Not found", 404);
  });
  return app;
}
