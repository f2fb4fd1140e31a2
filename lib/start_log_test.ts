import assert from "node:assert/strict";
import { browserUrl, startNotes } from "./start_log.ts";

const base = { hostname: "0.0.0.0", adminPassword: null, allowPrivateNetworks: false };
type Source = "variable" | "page" | "none";
const users = (source: Source) => ({ operatorPassword: () => Promise.resolve(source) });

Deno.test("browserUrl() turns a wildcard listen address into one a browser can open", () => {
  assert.equal(browserUrl("0.0.0.0", 8000), "http://localhost:8000");
  assert.equal(browserUrl("::", 8000), "http://localhost:8000");
  assert.equal(browserUrl("::1", 8080), "http://[::1]:8080");
  assert.equal(browserUrl("127.0.0.1", 9000), "http://127.0.0.1:9000");
});

Deno.test("startNotes() points at a password set earlier when the variable is unset", async () => {
  const [line] = await startNotes(base, { port: 8000, users: users("variable") });
  assert.equal(
    line,
    'Admin pages: http://localhost:8000/admin (sign in as "default" with the password set ' +
      "earlier by HIBIKI_ADMIN_PASSWORD)",
  );
});

Deno.test("startNotes() names the Account page once the password was changed there", async () => {
  const withVariable = { ...base, adminPassword: "the-variable-password" };
  const [line] = await startNotes(withVariable, { port: 8000, users: users("page") });
  assert.equal(
    line,
    'Admin pages: http://localhost:8000/admin (sign in as "default" with the password set on ' +
      "the Account page (HIBIKI_ADMIN_PASSWORD applies again only when its value changes))",
  );
  const [fromVariable] = await startNotes(withVariable, { port: 8000, users: users("variable") });
  assert.match(fromVariable, /with the password in HIBIKI_ADMIN_PASSWORD\)$/);
});

Deno.test("startNotes() says when private networks are allowed", async () => {
  const quiet = await startNotes(base, { port: 8000, users: users("none") });
  assert.equal(quiet.length, 1);
  const open = await startNotes({ ...base, allowPrivateNetworks: true }, {
    port: 8000,
    users: users("none"),
  });
  assert.match(open[1], /^Private networks allowed \(HIBIKI_ALLOW_PRIVATE_NETWORKS\)/);
});
