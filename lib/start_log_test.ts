import assert from "node:assert/strict";
import { browserUrl, startNotes } from "./start_log.ts";

const base = { hostname: "0.0.0.0", adminPassword: null, allowPrivateNetworks: false };
const users = (needsSetup: boolean) => ({ needsSetup: () => Promise.resolve(needsSetup) });

Deno.test("browserUrl() turns a wildcard listen address into one a browser can open", () => {
  assert.equal(browserUrl("0.0.0.0", 8000), "http://localhost:8000");
  assert.equal(browserUrl("::", 8000), "http://localhost:8000");
  assert.equal(browserUrl("::1", 8080), "http://[::1]:8080");
  assert.equal(browserUrl("127.0.0.1", 9000), "http://127.0.0.1:9000");
});

Deno.test("startNotes() points at a password set earlier when the variable is unset", async () => {
  const [line] = await startNotes(base, { port: 8000, users: users(false) });
  assert.equal(
    line,
    'Admin pages: http://localhost:8000/admin (sign in as "default" with the password set ' +
      "earlier by HIBIKI_ADMIN_PASSWORD or on the Account page)",
  );
});

Deno.test("startNotes() says when private networks are allowed", async () => {
  const quiet = await startNotes(base, { port: 8000, users: users(true) });
  assert.equal(quiet.length, 1);
  const open = await startNotes({ ...base, allowPrivateNetworks: true }, {
    port: 8000,
    users: users(true),
  });
  assert.match(open[1], /^Private networks allowed \(HIBIKI_ALLOW_PRIVATE_NETWORKS\)/);
});
