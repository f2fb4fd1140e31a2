/** Failures on admin pages become pages with the right status; only real faults are logged. */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ConflictError } from "../lib/errors.ts";
import { Assets } from "../routes/admin/assets.ts";
import type { AdminEnv } from "../routes/admin/context.ts";
import { adminErrors } from "../routes/admin/errors.tsx";
import { language } from "../routes/admin/language.ts";

Deno.test("a change lost to a concurrent one is a 409 page, not a logged 500", async () => {
  const app = new Hono<AdminEnv>();
  app.use(language());
  app.onError(adminErrors(new Assets(new URL("../static/", import.meta.url))));
  app.post("/replay", () => {
    throw new ConflictError('Cannot replay "evt_1": it is changing, try again');
  });
  const logged: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const response = await app.request("/replay", { method: "POST" });
    assert.equal(response.status, 409);
    const html = await response.text();
    assert.match(html, /Not saved: it changed meanwhile/);
    assert.match(html, /it is changing, try again/);
  } finally {
    console.error = error;
  }
  assert.deepEqual(logged, []);
});
