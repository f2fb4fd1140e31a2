/** `/api/keys`: API keys of the caller's user (scope `admin`). */
import { Hono } from "hono";
import { z } from "zod";
import { checkMintingAllowed, createApiKey, parseScopes } from "../../lib/auth.ts";
import type { Clock } from "../../lib/clock.ts";
import { parseBody } from "../../lib/validation.ts";
import type { Store } from "../../lib/store/store.ts";
import type { ApiKey } from "../../lib/store/types.ts";
import { type AuthEnv, scope } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

const newKey = z.object({
  name: z.string().trim().min(1).max(100).default("API key"),
  scopes: z.unknown(),
  userId: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/).optional(),
}).strict();

export function keyRoutes(deps: { store: Store; clock: Clock }): Hono<AuthEnv> {
  const { store, clock } = deps;
  const app = new Hono<AuthEnv>();
  app.use("*", scope("admin"));

  app.get("/", async (c) => {
    const page = await store.listApiKeys(c.get("principal").userId, pageParams(c));
    return okPage(c, { values: page.values.map(publicKey), cursor: page.cursor });
  });
  app.post("/", async (c) => {
    const body = parseBody(newKey, await jsonBody(c));
    const principal = c.get("principal");
    const input = {
      userId: body.userId ?? principal.userId,
      name: body.name,
      scopes: parseScopes(body.scopes),
    };
    checkMintingAllowed(principal, input);
    const { key, record } = await createApiKey(store, input, clock.now());
    return ok(c, { ...publicKey(record), key }, 201);
  });
  app.delete("/:id", async (c) => {
    await store.deleteApiKey(c.get("principal").userId, c.req.param("id"));
    return ok(c, { message: "API key deleted" });
  });
  return app;
}

function publicKey(key: ApiKey) {
  const { hash: _hash, ...rest } = key;
  return rest;
}
