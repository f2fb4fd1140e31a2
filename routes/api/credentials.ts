/** `/api/credentials`: Google service-account keys (scope `admin`); keys never come back. */
import { Hono } from "hono";
import type { CredentialService } from "../../lib/gcp/credentials.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok } from "../http.ts";

export function credentialRoutes(deps: { credentials: CredentialService }): Hono<AuthEnv> {
  const { credentials } = deps;
  const app = new Hono<AuthEnv>();
  app.use("*", scope("admin"));

  app.get("/", async (c) => ok(c, await credentials.list(userOf(c))));
  app.post("/", async (c) => ok(c, await credentials.create(userOf(c), await jsonBody(c)), 201));
  app.get("/:id", async (c) => ok(c, await credentials.get(userOf(c), c.req.param("id"))));
  app.delete("/:id", async (c) => {
    await credentials.delete(userOf(c), c.req.param("id"));
    return ok(c, { message: "Credential deleted" });
  });
  return app;
}
