/**
 * `/api/status-pages` and `/api/incidents/:id/updates` through the HTTP API: create, list,
 * change, delete; validation; owner scoping; slugs unique under concurrency; operators'
 * updates appended with compare-and-set.
 */
import assert from "node:assert/strict";
import type { StatusPage } from "../lib/status/types.ts";
import type { Incident } from "../lib/alerts/types.ts";
import { expectError, expectStatus, T0, TestSystem } from "./helpers.ts";
import { MINUTE, switchableProbe } from "./alerts_support.ts";

async function createPage(
  t: TestSystem,
  body: Record<string, unknown>,
  key?: string,
): Promise<StatusPage> {
  const answer = await t.call<StatusPage>("POST", "/api/status-pages", { body, key });
  expectStatus(answer, 201);
  return answer.body.data;
}

Deno.test("a status page is created, read, listed by cursor, changed and deleted", async () => {
  await using t = await TestSystem.start();
  const api = await t.createJob({ name: "API" });
  const web = await t.createJob({ name: "Web" });
  const page = await createPage(t, {
    slug: "acme",
    title: "Acme status",
    description: "Our services",
    groups: [{ name: "Core", jobIds: [api.id] }, { name: "Site", jobIds: [web.id] }],
  });
  assert.match(page.id, /^sp_/);
  assert.equal(page.slug, "acme");
  assert.deepEqual(page.groups.map((g) => g.name), ["Core", "Site"]);
  const read = await t.call<StatusPage>("GET", `/api/status-pages/${page.id}`);
  assert.deepEqual(read.body.data, page);

  t.clock.set(T0 + 1000); // ids sort by creation time
  await createPage(t, { slug: "acme-two", title: "Two", groups: [] });
  const first = await t.call<StatusPage[]>("GET", "/api/status-pages?limit=1");
  assert.deepEqual(first.body.data.map((p) => p.slug), ["acme"]);
  const rest = await t.call<StatusPage[]>(
    "GET",
    `/api/status-pages?limit=1&cursor=${first.body.cursor}`,
  );
  assert.deepEqual(rest.body.data.map((p) => p.slug), ["acme-two"]);

  t.clock.set(T0 + MINUTE);
  const changed = await t.call<StatusPage>("PATCH", `/api/status-pages/${page.id}`, {
    body: { title: "Acme", slug: "acme-status", description: null },
  });
  expectStatus(changed, 200);
  assert.equal(changed.body.data.title, "Acme");
  assert.equal(changed.body.data.description, null);
  assert.equal(changed.body.data.updatedAt, new Date(T0 + MINUTE).toISOString());
  assert.deepEqual(changed.body.data.groups, page.groups);
  assert.equal((await t.system.app.request("/status/acme")).status, 404);
  assert.equal((await t.system.app.request("/status/acme-status")).status, 200);

  const deleted = await t.call("DELETE", `/api/status-pages/${page.id}`);
  expectStatus(deleted, 200);
  expectError(await t.call("GET", `/api/status-pages/${page.id}`), 404, "NOT_FOUND");
  assert.equal((await t.system.app.request("/status/acme-status")).status, 404);
  // The slug is free again.
  await createPage(t, { slug: "acme-status", title: "Again", groups: [] });
});

Deno.test("a status page's fields are checked, each refusal naming its field", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const valid = { slug: "shop", title: "Shop", groups: [{ name: "G", jobIds: [job.id] }] };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...valid, slug: "ab" }, "slug"],
    [{ ...valid, slug: "a".repeat(65) }, "slug"],
    [{ ...valid, slug: "Shop" }, "slug"],
    [{ ...valid, slug: "my_shop" }, "slug"],
    [{ ...valid, slug: "-shop" }, "slug"],
    [{ ...valid, slug: "shop.json" }, "slug"],
    [{ ...valid, slug: "admin" }, "slug"],
    [{ ...valid, slug: "status" }, "slug"],
    [{ ...valid, title: "" }, "title"],
    [{ ...valid, title: "x".repeat(101) }, "title"],
    [{ slug: "shop", groups: [] }, "title"],
    [{ slug: "shop", title: "Shop" }, "groups"],
    [{ ...valid, description: "x".repeat(1001) }, "description"],
    [{ ...valid, groups: [{ name: "", jobIds: [] }] }, "groups"],
    [
      { ...valid, groups: [{ name: "A", jobIds: [job.id] }, { name: "B", jobIds: [job.id] }] },
      "groups",
    ],
    [{ ...valid, groups: [{ name: "A", jobIds: [], url: "x" }] }, "groups"],
    [{ ...valid, colour: "red" }, "colour"],
  ];
  for (const [body, field] of cases) {
    const answer = await t.call("POST", "/api/status-pages", { body });
    expectError(answer, 400, "INVALID_REQUEST", field);
  }
  expectError(
    await t.call("POST", "/api/status-pages", { body: "not json" }),
    400,
    "INVALID_REQUEST",
  );
  await createPage(t, valid);
});

Deno.test("status pages belong to their owner: another's page and jobs are not found", async () => {
  await using t = await TestSystem.start();
  const { key: alice } = await t.createKey(["read:jobs", "write:jobs"], "alice");
  const { key: bob } = await t.createKey(["read:jobs", "write:jobs"], "bob");
  const alicesJob = await t.createJob({ name: "Alice's" }, alice);
  const page = await createPage(t, {
    slug: "alice",
    title: "Alice",
    groups: [{ name: "G", jobIds: [alicesJob.id] }],
  }, alice);
  expectError(await t.call("GET", `/api/status-pages/${page.id}`, { key: bob }), 404, "NOT_FOUND");
  expectError(
    await t.call("PATCH", `/api/status-pages/${page.id}`, { key: bob, body: { title: "Mine" } }),
    404,
    "NOT_FOUND",
  );
  expectError(
    await t.call("DELETE", `/api/status-pages/${page.id}`, { key: bob }),
    404,
    "NOT_FOUND",
  );
  assert.deepEqual(
    (await t.call<StatusPage[]>("GET", "/api/status-pages", { key: bob })).body.data,
    [],
  );
  // Bob cannot publish Alice's job, nor add it to a page of his.
  const answer = await t.call("POST", "/api/status-pages", {
    key: bob,
    body: { slug: "bob", title: "Bob", groups: [{ name: "G", jobIds: [alicesJob.id] }] },
  });
  expectError(answer, 404, "NOT_FOUND");
  const bobs = await createPage(t, { slug: "bob", title: "Bob", groups: [] }, bob);
  expectError(
    await t.call("PATCH", `/api/status-pages/${bobs.id}`, {
      key: bob,
      body: { groups: [{ name: "G", jobIds: [alicesJob.id] }] },
    }),
    404,
    "NOT_FOUND",
  );
  // Bob's slug is taken for Alice too.
  expectError(
    await t.call("POST", "/api/status-pages", {
      key: alice,
      body: { slug: "bob", title: "Mine", groups: [] },
    }),
    409,
    "CONFLICT",
  );
  expectError(
    await t.call("PATCH", `/api/status-pages/${page.id}`, { key: alice, body: { slug: "bob" } }),
    409,
    "CONFLICT",
  );
});

Deno.test("a slug asked for by several owners at once goes to exactly one", async () => {
  await using t = await TestSystem.start();
  const keys = await Promise.all(
    ["a", "b", "c", "d", "e", "f"].map((u) => t.createKey(["write:jobs"], `owner-${u}`)),
  );
  const answers = await Promise.all(keys.map(({ key }) =>
    t.call("POST", "/api/status-pages", {
      key,
      body: { slug: "launch", title: "Launch", groups: [] },
    })
  ));
  assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409]);
});

Deno.test("status pages take the jobs' scopes: read:jobs reads, write:jobs changes", async () => {
  await using t = await TestSystem.start();
  const { key: reader } = await t.createKey(["read:jobs"]);
  const { key: logs } = await t.createKey(["read:logs"]);
  const page = await createPage(t, { slug: "scoped", title: "S", groups: [] });
  expectStatus(await t.call("GET", "/api/status-pages", { key: reader }), 200);
  expectStatus(await t.call("GET", `/api/status-pages/${page.id}`, { key: reader }), 200);
  expectError(
    await t.call("POST", "/api/status-pages", {
      key: reader,
      body: { slug: "other", title: "O", groups: [] },
    }),
    403,
    "FORBIDDEN",
  );
  expectError(
    await t.call("DELETE", `/api/status-pages/${page.id}`, { key: reader }),
    403,
    "FORBIDDEN",
  );
  expectError(await t.call("GET", "/api/status-pages", { key: logs }), 403, "FORBIDDEN");
  expectError(await t.call("GET", "/api/status-pages", { key: null }), 401, "UNAUTHORIZED");
});

/** A job every minute that fails once at 12:02: an incident opens, and resolves at 12:03. */
async function withIncident(t: TestSystem, set: (a: "up" | "down") => void): Promise<Incident> {
  const job = await t.createJob({ schedule: "* * * * *", alerts: { failureThreshold: 1 } });
  for (const [minute, answer] of [[1, "up"], [2, "down"]] as const) {
    set(answer);
    t.clock.set(T0 + minute * MINUTE);
    await t.system.cronTick();
    await t.settle();
  }
  const list = await t.call<Incident[]>("GET", `/api/incidents?jobId=${job.id}`);
  assert.equal(list.body.data.length, 1);
  return list.body.data[0];
}

Deno.test("an operator's updates are appended to an incident, concurrent ones too", async () => {
  const target = switchableProbe();
  await using t = await TestSystem.start({ probe: target.probe });
  const incident = await withIncident(t, target.set);
  const path = `/api/incidents/${incident.id}/updates`;
  const first = await t.call<Incident>("POST", path, { body: { message: "  Investigating  " } });
  expectStatus(first, 201);
  assert.deepEqual(first.body.data.updates, [{
    at: new Date(T0 + 2 * MINUTE).toISOString(),
    message: "Investigating",
  }]);
  await Promise.all(
    ["one", "two", "three"].map((message) => t.call("POST", path, { body: { message } })),
  );
  const read = await t.call<Incident>("GET", `/api/incidents/${incident.id}`);
  assert.deepEqual(
    read.body.data.updates.map((u) => u.message).sort(),
    ["Investigating", "one", "three", "two"],
  );
  assert.equal(read.body.data.state, "open");
});

Deno.test("an operator's update is 1 to 2000 characters, on the owner's incidents only", async () => {
  const target = switchableProbe();
  await using t = await TestSystem.start({ probe: target.probe });
  const incident = await withIncident(t, target.set);
  const path = `/api/incidents/${incident.id}/updates`;
  for (
    const body of [{}, { message: "" }, { message: "   " }, { message: 5 }, {
      message: "x".repeat(2001),
    }]
  ) {
    expectError(await t.call("POST", path, { body }), 400, "INVALID_REQUEST", "message");
  }
  expectError(
    await t.call("POST", path, { body: { message: "ok", extra: 1 } }),
    400,
    "INVALID_REQUEST",
    "extra",
  );
  expectStatus(await t.call("POST", path, { body: { message: "x".repeat(2000) } }), 201);
  const { key: other } = await t.createKey(["write:jobs"], "someone-else");
  expectError(
    await t.call("POST", path, { key: other, body: { message: "hi" } }),
    404,
    "NOT_FOUND",
  );
  const { key: reader } = await t.createKey(["read:jobs"]);
  expectError(
    await t.call("POST", path, { key: reader, body: { message: "hi" } }),
    403,
    "FORBIDDEN",
  );
  expectError(
    await t.call("POST", "/api/incidents/inc_nope/updates", { body: { message: "hi" } }),
    404,
    "NOT_FOUND",
  );
});
