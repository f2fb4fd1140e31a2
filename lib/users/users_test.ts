import assert from "node:assert/strict";
import { createKvStores } from "../store/kv/mod.ts";
import { SessionService } from "./sessions.ts";
import { LoginThrottle } from "./throttle.ts";
import { UserService } from "./users.ts";

function buildUsers(kv: Deno.Kv, adminPassword: string | null): UserService {
  const stores = createKvStores(kv);
  const now = () => Date.UTC(2026, 11, 4);
  const sessions = new SessionService(stores.sessions, new Uint8Array(32).fill(7), now);
  return new UserService({
    users: stores.users,
    sessions,
    throttle: new LoginThrottle(stores.loginFailures, now),
    now,
    adminPassword,
    fingerprint: (text) => sessions.fingerprint(text),
    iterations: 1_000,
  });
}

Deno.test("operatorPassword() follows the variable until the password is changed on the page", async () => {
  using kv = await Deno.openKv(":memory:");
  const first = buildUsers(kv, "the-variable-password");
  assert.equal(await first.operatorPassword(), "variable");
  const signedIn = await first.signIn("default", "the-variable-password", "127.0.0.1");
  assert.ok(signedIn.ok);
  await first.changeOwnPassword(signedIn.session, "the-variable-password", "changed-on-the-page");
  assert.equal(await first.operatorPassword(), "page");
  // A restart with the same variable keeps the page's password, and says so.
  const restarted = buildUsers(kv, "the-variable-password");
  assert.equal(await restarted.operatorPassword(), "page");
  assert.equal((await restarted.signIn("default", "changed-on-the-page", "127.0.0.1")).ok, true);
  // A new value of the variable applies again.
  const changedVariable = buildUsers(kv, "a-new-variable-password");
  assert.equal(await changedVariable.operatorPassword(), "variable");
});

Deno.test("operatorPassword() is none without a variable or any password", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.equal(await buildUsers(kv, null).operatorPassword(), "none");
});
