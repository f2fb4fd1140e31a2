/** `/api/credentials`: Google service-account keys (scope `admin`); keys never come back. */
import { Hono } from "hono";
import type { CredentialService } from "../../lib/gcp/credentials.ts";
import { type AuthEnv, scope } from "../middleware/auth.ts";
import { jsonBody, ok } from "../http.ts";

export function credentialRoutes(deps: { credentials: CredentialService }): Hono<AuthEnv> {
  const { credentials } = deps;
  const app = new Hono<AuthEnv>();
  const user = (c: { get(key: "principal"): { userId: string } }) => c.get("principal").userId;
  app.use("*", scope("admin"));

  app.get("/", async (c) => ok(c, await credentials.list(user(c))));
  app.post("/", async (c) => ok(c, await credentials.create(user(c), await jsonBody(c)), 201));
  app.get("/:id", async (c) => ok(c, await credentials.get(user(c), c.req.param("id"))));
  app.delete("/:id", async (c) => {
    await credentials.delete(user(c), c.req.param("id"));
    return ok(c, { message: "Credential deleted" });
  });
  return app;
}
