/** `/api/workers`: probe workers (scope `admin`; changes by the operator only). */
import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_USER } from "../../lib/auth.ts";
import type { Clock } from "../../lib/clock.ts";
import type { WorkerStore } from "../../lib/store/workers.ts";
import { ForbiddenError } from "../../lib/errors.ts";
import { parseBody } from "../../lib/validation.ts";
import { WORKER_ID } from "../../lib/store/types.ts";
import { type AuthEnv, scope } from "../middleware/auth.ts";
import { jsonBody, ok } from "../http.ts";

const newWorker = z.object({
  id: z.string().regex(WORKER_ID, "must be 1-64 letters, digits or _.-")
    .refine((id) => id !== "local" && !id.startsWith("manual-"), "is reserved"),
  name: z.string().trim().min(1).max(100).optional(),
  is_active: z.boolean().default(true),
}).strict();
const workerPatch = z.object({
  name: z.string().trim().min(1).max(100),
  is_active: z.boolean(),
}).partial().strict();

export function workerRoutes(deps: { workers: WorkerStore; clock: Clock }): Hono<AuthEnv> {
  const { workers, clock } = deps;
  const app = new Hono<AuthEnv>();
  app.use("*", scope("admin"));
  // Workers serve every tenant, so only the operator may add or switch them.
  const operatorOnly = (userId: string) => {
    if (userId !== DEFAULT_USER) throw new ForbiddenError("Only the operator can change workers");
  };

  app.get("/", async (c) => ok(c, await workers.list()));
  app.post("/", async (c) => {
    operatorOnly(c.get("principal").userId);
    const input = parseBody(newWorker, await jsonBody(c));
    const worker = {
      id: input.id,
      name: input.name ?? input.id,
      is_active: input.is_active,
      last_seen_at: null,
      created_at: new Date(clock.now()).toISOString(),
    };
    await workers.create(worker);
    return ok(c, worker, 201);
  });
  app.patch("/:id", async (c) => {
    operatorOnly(c.get("principal").userId);
    const patch = parseBody(workerPatch, await jsonBody(c));
    return ok(c, await workers.update(c.req.param("id"), (w) => ({ ...w, ...patch })));
  });
  return app;
}
