/** Signing in to the admin pages: sessions, cookies, CSRF, throttling, sign-out, passwords. */
import assert from "node:assert/strict";
import { AdminTestSystem, expectRedirect, PASSWORD } from "./admin_client.ts";

Deno.test("a page without a session redirects to sign-in, which asks for User and Password", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  expectRedirect(await client.get("/admin/jobs/new"), "/admin/login?next=%2Fadmin%2Fjobs%2Fnew");
  const login = await client.get("/admin/login");
  assert.equal(login.status, 200);
  assert.match(login.html, /<label for="login-user">User<\/label>/);
  assert.match(login.html, /<label for="login-password">Password<\/label>/);
  assert.doesNotMatch(login.html, /<script/);
});

Deno.test("signing in sets an HttpOnly, SameSite=Lax, signed, expiring session cookie", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  await client.get("/admin/login?next=%2Fadmin%2Fkeys");
  const page = await client.post("/admin/login?next=%2Fadmin%2Fkeys", {
    user: "default",
    password: PASSWORD,
  });
  expectRedirect(page, "/admin/keys");
  const cookie = page.headers.getSetCookie().find((c) => c.startsWith("hibiki_session="))!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.match(cookie, /Max-Age=43200/);
  assert.doesNotMatch(cookie, /Secure/);
  assert.match(cookie, /^hibiki_session=[A-Za-z0-9_-]+\.[0-9a-f]{64};/);
  assert.equal((await client.get("/admin")).status, 200);

  // A cookie with a forged signature is no session. The last hex digit is changed to another
  // one: setting it to a fixed digit would leave the cookie valid whenever it already was that.
  const real = client.cookies.get("hibiki_session")!;
  const forged = real.slice(0, -1) + (real.endsWith("0") ? "1" : "0");
  assert.notEqual(forged, real);
  client.cookies.set("hibiki_session", forged);
  expectRedirect(await client.get("/admin"), /^\/admin\/login/);
});

Deno.test("over https the session cookie is Secure with the __Host- prefix", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client("https://hibiki.test");
  const page = await client.signIn();
  const cookie = page.headers.getSetCookie().find((c) => c.includes("hibiki_session="))!;
  assert.match(cookie, /^__Host-hibiki_session=/);
  assert.match(cookie, /Secure/);
});

Deno.test("a session expires after 12 hours", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  s.clock.advance(12 * 3_600_000 + 1);
  expectRedirect(await client.get("/admin"), /^\/admin\/login/);
});

Deno.test("a wrong password or unknown user is refused with one message", async () => {
  await using s = await AdminTestSystem.start();
  for (const [user, password] of [["default", "not the password"], ["nobody", PASSWORD]]) {
    const page = await s.client().signIn(user, password);
    assert.equal(page.status, 401);
    assert.match(page.html, /The user or password is wrong/);
  }
});

Deno.test("the sign-in form needs its CSRF token", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  await client.get("/admin/login");
  const page = await client.post("/admin/login", {
    _csrf: "forged",
    user: "default",
    password: PASSWORD,
  });
  assert.equal(page.status, 403);
  assert.equal(client.cookies.has("hibiki_session"), false);
});

Deno.test("every form needs the session's CSRF token and a same-site Origin", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin/keys");
  const forged = await client.post("/admin/keys", { _csrf: "x", name: "k", scopes: "read:jobs" });
  assert.equal(forged.status, 403);
  const crossSite = await client.post("/admin/keys", { name: "k", scopes: "read:jobs" }, {
    origin: "https://evil.example",
  });
  assert.equal(crossSite.status, 403);
  const ok = await client.post("/admin/keys", { name: "k", scopes: "read:jobs" }, {
    origin: "http://hibiki.test",
  });
  assert.equal(ok.status, 200);
  assert.match(ok.html, /data-testid="new-key">hk_/);
});

Deno.test("repeated failed sign-ins are slowed down and logged", async () => {
  await using s = await AdminTestSystem.start();
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (message: string) => warnings.push(message);
  try {
    const client = s.client();
    for (let i = 0; i < 5; i++) assert.equal((await client.signIn("default", "wrong")).status, 401);
    const throttled = await client.signIn("default", PASSWORD);
    assert.equal(throttled.status, 429);
    assert.match(throttled.html, /Too many failed sign-ins: try again in 1 s/);
    s.clock.advance(1500);
    expectRedirect(await client.signIn("default", PASSWORD), "/admin");
  } finally {
    console.warn = warn;
  }
  assert.ok(
    warnings.some((w) => /Failed sign-in for user "default" from unknown: 5 in a row/.test(w)),
  );
  assert.ok(warnings.every((w) => !w.includes(PASSWORD) && !w.includes("wrong")));
});

Deno.test("signing out ends the session", async () => {
  await using s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  const cookie = client.cookies.get("hibiki_session")!;
  expectRedirect(await client.post("/admin/logout"), "/admin/login");
  client.cookies.set("hibiki_session", cookie);
  expectRedirect(await client.get("/admin"), /^\/admin\/login/);
});

Deno.test("changing a password ends the user's other sessions but not this one", async () => {
  await using s = await AdminTestSystem.start();
  const [laptop, phone] = [s.client(), s.client()];
  await laptop.signIn();
  await phone.signIn();
  await laptop.get("/admin/account");
  const changed = await laptop.post("/admin/account", {
    current: PASSWORD,
    password: "another-long-password",
  });
  assert.match(changed.html, /Password changed/);
  assert.equal((await laptop.get("/admin")).status, 200);
  expectRedirect(await phone.get("/admin"), /^\/admin\/login/);
  assert.equal((await s.client().signIn("default", PASSWORD)).status, 401);
  expectRedirect(await s.client().signIn("default", "another-long-password"), "/admin");
});

Deno.test("without HIBIKI_ADMIN_PASSWORD the sign-in page says how to set one", async () => {
  await using s = await AdminTestSystem.start({ HIBIKI_ADMIN_PASSWORD: "" });
  const page = await s.client().get("/admin/login");
  assert.match(page.html, /No password is set yet/);
  assert.match(page.html, /HIBIKI_ADMIN_PASSWORD=/);
  assert.equal((await s.client().signIn("default", "")).status, 401);
});

Deno.test("an admin adds a tenant user, who sees only its own jobs, and resets its password", async () => {
  await using s = await AdminTestSystem.start();
  const admin = s.client();
  await admin.signIn();
  await admin.get("/admin/users");
  const weak = await admin.post("/admin/users", { id: "acme", password: "short" });
  assert.equal(weak.status, 400);
  assert.match(weak.html, /at least 12 characters/);
  expectRedirect(
    await admin.post("/admin/users", { id: "acme", password: "acme-long-password" }),
    "/admin/users",
  );
  await admin.createJob({
    name: "Operator's job",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const acme = s.client();
  expectRedirect(await acme.signIn("acme", "acme-long-password"), "/admin");
  const dashboard = await acme.get("/admin");
  assert.doesNotMatch(dashboard.html, /Operator&#39;s job|Operator's job/);
  assert.equal((await acme.get("/admin/users")).status, 403);
  assert.doesNotMatch(dashboard.html, /href="\/admin\/users"/);

  await admin.get("/admin/users");
  const reset = await admin.post("/admin/users/acme/password", { password: "a-new-acme-password" });
  assert.match(reset.html, /Password of acme reset/);
  expectRedirect(await acme.get("/admin"), /^\/admin\/login/);
});
