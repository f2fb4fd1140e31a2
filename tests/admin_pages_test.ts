/**
 * The admin pages over HTTP: escaping, security headers, scripts only where islands are, page
 * sizes, field errors, the session-authenticated API for islands, and the committed island
 * bundle matching its sources.
 */
import assert from "node:assert/strict";
import { AdminTestSystem, expectRedirect } from "./admin_client.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;

async function signedIn() {
  const s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  return { s, client };
}

Deno.test("user-supplied strings are escaped on every page that shows them", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: XSS,
    url: "https://example.com/?q=<script>",
    schedule: "0 9 * * *",
    headers: { "X-Note": XSS },
  });
  for (const path of ["/admin", `/admin/jobs/${job.id}`, `/admin/jobs/${job.id}/edit`]) {
    const page = await client.get(path);
    assert.equal(page.status, 200, path);
    assert.doesNotMatch(page.html, /<img src=x/, path);
    assert.doesNotMatch(page.html, /<script>/, path);
    assert.match(page.html, /&lt;img src=x onerror=alert\(1\)>/, path);
  }
});

Deno.test("deleting a job needs the confirmation box", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "doomed",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const refused = await client.post(`/admin/jobs/${job.id}/delete`, {});
  assert.equal(refused.status, 400);
  assert.match(refused.html, /Tick the box to confirm/);
  assert.equal((await client.get(`/admin/jobs/${job.id}`)).status, 200);
  expectRedirect(await client.post(`/admin/jobs/${job.id}/delete`, { confirm: "1" }), "/admin");
  assert.equal((await client.get(`/admin/jobs/${job.id}`)).status, 404);
});

Deno.test("admin pages send a CSP allowing only our own scripts, and no inline handlers", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Ping",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  for (
    const path of [
      "/admin",
      "/admin/jobs/new",
      `/admin/jobs/${job.id}`,
      "/admin/keys",
      "/admin/credentials",
      "/admin/hooks/new",
      "/admin/channels/new",
      "/admin/maintenance/new",
    ]
  ) {
    const page = await client.get(path);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.doesNotMatch(page.html, /\son[a-z]+=/i, `inline handler on ${path}`);
    assert.doesNotMatch(page.html, /<script(?![^>]*\bsrc=)/, `inline script on ${path}`);
    assert.doesNotMatch(page.html, /\sstyle=/, `inline style on ${path}`);
  }
});

Deno.test("pages load island scripts only where they have islands", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Ping",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const scripts = (html: string) =>
    [...html.matchAll(/<script type="module" src="([^"]+)"/g)]
      .map((m) => m[1].replace(/\?.*$/, ""));
  assert.deepEqual(scripts((await client.get("/admin")).html), [
    "/static/build/dashboard_table.js",
  ]);
  assert.deepEqual(scripts((await client.get(`/admin/jobs/${job.id}`)).html), [
    "/static/build/job_activity.js",
  ]);
  assert.deepEqual(scripts((await client.get("/admin/jobs/new")).html), [
    "/static/build/schedule_fields.js",
  ]);
  for (
    const path of [
      "/admin/keys",
      "/admin/workers",
      "/admin/users",
      "/admin/account",
      "/admin/credentials",
      "/admin/hooks",
      "/admin/hooks/new",
      "/admin/channels",
      "/admin/channels/new",
      "/admin/maintenance",
    ]
  ) {
    assert.deepEqual(scripts((await client.get(path)).html), [], path);
  }
  const bundle = await client.get("/static/build/dashboard_table.js");
  assert.equal(bundle.status, 200);
  assert.match(bundle.headers.get("content-type") ?? "", /javascript/);
});

Deno.test("the live tables refresh every 5 s on the dashboard and 3 s on a job's page, or as told", async () => {
  const intervals = async (options = {}) => {
    await using s = await AdminTestSystem.start({}, options);
    const client = s.client();
    await client.signIn();
    await client.get("/admin/account"); // a page of the session, for its CSRF token
    const job = await client.createJob({
      name: "Ping",
      url: "https://example.com/",
      schedule: "0 9 * * *",
    });
    const interval = (html: string) => Number(/&quot;intervalMs&quot;:(\d+)/.exec(html)?.[1]);
    return [
      interval((await client.get("/admin")).html),
      interval((await client.get(`/admin/jobs/${job.id}`)).html),
    ];
  };
  assert.deepEqual(await intervals(), [5000, 3000]);
  assert.deepEqual(await intervals({ adminRefreshMs: 250 }), [250, 250]);
});

Deno.test("a rejected job form shows the API's message beside the field it names", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  await client.get("/admin/jobs/new");
  const fields = {
    name: "Ping",
    url: "https://example.com/",
    method: "GET",
    schedule: "*/5 * * * *",
    timezone: "UTC",
    timeoutSeconds: "30",
    local: "1",
    enabled: "1",
  };
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ schedule: "61 * * * *" }, "job-schedule-error", /minute/i],
    [{ timezone: "Mars/Olympus" }, "job-timezone-error", /time ?zone/i],
    [{ url: "ftp://example.com/" }, "job-url-error", /http or https/],
    [{ name: " " }, "job-name-error", /name/],
    [{ headers: "no colon here" }, "job-headers-error", /Name: value/],
  ];
  for (const [change, id, message] of cases) {
    const page = await client.post("/admin/jobs/new", { ...fields, ...change });
    assert.equal(page.status, 400, JSON.stringify(change));
    const error = new RegExp(`id="${id}"[^>]*>([^<]+)<`).exec(page.html);
    assert.ok(error, `no ${id} for ${JSON.stringify(change)}`);
    assert.match(error[1], message);
    // The form comes back as it was sent.
    assert.match(page.html, /value="https:\/\/example.com\/"|value="ftp:\/\/example.com\/"/);
  }
  expectRedirect(await client.post("/admin/jobs/new", fields), /^\/admin\/jobs\/[0-9a-f-]{36}$/);
});

Deno.test("islands call the JSON API with the session; changes need the CSRF header", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Ping",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const runs = await client.get(`/api/jobs/${job.id}/runs?limit=10`);
  assert.equal(runs.status, 200);
  assert.equal(JSON.parse(runs.html).success, true);
  const noToken = await client.send("POST", `/api/jobs/${job.id}/run`);
  assert.equal(noToken.status, 403);
  const crossSite = await client.send("POST", `/api/jobs/${job.id}/run`, undefined, {
    "x-csrf-token": client.csrf,
    origin: "https://evil.example",
  });
  assert.equal(crossSite.status, 403);
  const ok = await client.send("POST", `/api/jobs/${job.id}/run`, undefined, {
    "x-csrf-token": client.csrf,
  });
  assert.equal(ok.status, 202);
  // Without a session the API still wants a key.
  assert.equal((await s.client().get("/api/jobs")).status, 401);
});

Deno.test("the dashboard pages through jobs 50 at a time and stays small", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  for (let i = 0; i < 120; i++) {
    await client.createJob({
      name: `Job number ${i} with a fairly long descriptive name`,
      url: `https://service-${i}.example.com/health/check/endpoint`,
      schedule: "*/5 * * * *",
    });
  }
  let path = "/admin";
  const seen = new Set<string>();
  for (let pageNo = 0; pageNo < 3; pageNo++) {
    const page = await client.get(path);
    assert.ok(page.html.length <= 100 * 1024, `page ${pageNo} is ${page.html.length} bytes`);
    const ids = [...page.html.matchAll(/<tr data-job="([^"]+)"/g)].map((m) => m[1]);
    for (const id of ids) seen.add(id);
    const next = /<a href="(\/admin\?cursor=[^"]+)" rel="next"/.exec(page.html);
    if (pageNo < 2) path = next![1].replaceAll("&amp;", "&");
    else assert.equal(next, null);
  }
  assert.equal(seen.size, 120);
});

Deno.test("the committed island bundle is what `deno task build` makes of the sources", async () => {
  const out = await Deno.makeTempDir();
  try {
    // The build task's own command, writing elsewhere: the test cannot drift from the task.
    const task: string = JSON.parse(await Deno.readTextFile("deno.json")).tasks.build;
    const command = task.split("&&").map((part) => part.trim()).find((p) =>
      p.startsWith("deno bundle")
    )!;
    const entries = [...Deno.readDirSync("islands/client")].map((e) => `islands/client/${e.name}`)
      .sort();
    const args = command.split(/\s+/).slice(1).flatMap((arg) =>
      arg === "islands/client/*.ts" ? entries : arg === "static/build" ? [out] : [arg]
    );
    const build = await new Deno.Command(Deno.execPath(), {
      args,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(
      names("static/build"),
      names(out),
      "static/build is stale: run deno task build",
    );
    for (const name of names(out)) {
      assert.equal(
        await Deno.readTextFile(`static/build/${name}`),
        await Deno.readTextFile(`${out}/${name}`),
        `static/build/${name} is stale: run deno task build`,
      );
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("pages speak Japanese from Accept-Language or the switch, and fail as pages", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const ja = await client.get("/admin", { "accept-language": "ja-JP,ja;q=0.9,en;q=0.8" });
  assert.match(ja.html, /<html lang="ja">/);
  assert.match(ja.html, /<h1>ジョブ<\/h1>/);
  expectRedirect(await client.get("/admin/lang?to=en&back=%2Fadmin%2Fkeys"), "/admin/keys");
  assert.match((await client.get("/admin", { "accept-language": "ja" })).html, /<h1>Jobs<\/h1>/);
  expectRedirect(await client.get("/admin/lang?to=ja&back=https%3A%2F%2Fevil.example"), "/admin");
  const missing = await client.get("/admin/jobs/no-such-job");
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get("content-type") ?? "", /text\/html/);
  assert.match(missing.html, /ジョブ|Job "no-such-job" not found/);
});
