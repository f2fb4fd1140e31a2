/**
 * The public status pages through the app, with real runs, incidents and maintenance windows
 * on Deno KV and the injected clock: the page (English, Japanese, no scripts), its JSON, its
 * badges, exact day figures around midnight, what must never show, and how fast changes show.
 */
import assert from "node:assert/strict";
import type { StatusView } from "../lib/status/status_board.ts";
import type { Incident } from "../lib/alerts/types.ts";
import { dayText } from "../components/status_page.tsx";
import { translator } from "../lib/i18n/i18n.ts";
import { expectStatus, ROOT_KEY, TestSystem } from "./helpers.ts";
import { MINUTE, switchableProbe } from "./alerts_support.ts";

/** Monday 2 March 2026, 23:50 UTC: ten minutes before midnight. */
const START = Date.UTC(2026, 2, 2, 23, 50);
const at = (minutes: number) => START + minutes * MINUTE;
const SECRET_URL = "https://private-host.internal.example/health?token=tok-93817";
const SECRET_HEADER = "Bearer hunter2-abcdef";

async function tick(t: TestSystem, minutes: number): Promise<void> {
  t.clock.set(at(minutes));
  await t.system.cronTick();
  await t.settle();
}

async function get(t: TestSystem, path: string, headers: Record<string, string> = {}) {
  const response = await t.system.app.request(path, { headers });
  return { response, text: await response.text() };
}

async function json(t: TestSystem, slug: string): Promise<StatusView> {
  const { response, text } = await get(t, `/status/${slug}.json`);
  assert.equal(response.status, 200, text);
  return JSON.parse(text);
}

async function makePage(t: TestSystem, groups: { name: string; jobIds: string[] }[]) {
  const answer = await t.call<{ id: string }>("POST", "/api/status-pages", {
    body: { slug: "acme", title: "Acme <Cloud>", description: "Our & your services", groups },
  });
  expectStatus(answer, 201);
  return answer.body.data;
}

/**
 * A job checked every minute from 23:50, failing 23:52–00:04 (one incident across midnight,
 * resolved at 00:05), with maintenance 00:20–00:30; the clock ends at 00:40.
 */
async function midnightStory() {
  const target = switchableProbe();
  const t = await TestSystem.start({ probe: target.probe, now: START });
  const job = await t.createJob({
    name: "Billing API",
    url: SECRET_URL,
    headers: { Authorization: SECRET_HEADER },
    schedule: "* * * * *",
    alerts: { failureThreshold: 1 },
  });
  const other = await t.createJob({ name: "Search", schedule: "0 9 * * *" });
  const window = await t.call("POST", "/api/maintenance", {
    body: {
      name: "Upgrade",
      jobIds: [job.id],
      start: new Date(at(30)).toISOString(),
      end: new Date(at(40)).toISOString(),
    },
  });
  expectStatus(window, 201);
  const page = await makePage(t, [{ name: "Payments", jobIds: [job.id] }, {
    name: "Site",
    jobIds: [other.id],
  }]);
  for (let minute = 1; minute <= 50; minute++) {
    target.set(minute >= 2 && minute <= 14 ? "down" : "up");
    await tick(t, minute);
  }
  return { t, job, other, page, target };
}

Deno.test("the 90-day bar gives exact day figures around midnight, maintenance left out", async () => {
  const { t, job } = await midnightStory();
  await using _ = t;
  const [incident] = (await t.call<Incident[]>("GET", `/api/incidents?jobId=${job.id}`)).body.data;
  assert.equal(incident.startedAt, "2026-03-02T23:52:00.000Z");
  assert.equal(incident.endedAt, "2026-03-03T00:05:00.000Z");

  const view = await json(t, "acme");
  assert.equal(view.days.from, "2025-12-04");
  assert.equal(view.days.to, "2026-03-03");
  const billing = view.groups[0].jobs[0];
  assert.equal(billing.days.length, 90);
  // Days before the job existed: no data.
  assert.ok(billing.days.slice(0, 88).every((d) => d.uptime === null && d.countedMs === 0));
  // 2 March: made at 23:50, down 23:52–24:00.
  assert.deepEqual(billing.days[88], {
    date: "2026-03-02",
    uptime: 1 - 8 / 10,
    countedMs: 10 * MINUTE,
    downMs: 8 * MINUTE,
    maintenanceMs: 0,
    incidents: 1,
  });
  // 3 March to 00:40: down 00:00–00:05, maintenance 00:20–00:30 left out.
  assert.deepEqual(billing.days[89], {
    date: "2026-03-03",
    uptime: 1 - 5 / 30,
    countedMs: 30 * MINUTE,
    downMs: 5 * MINUTE,
    maintenanceMs: 10 * MINUTE,
    incidents: 1,
  });
  assert.equal(billing.uptime["24h"], 1 - 13 / 40);
  assert.equal(billing.uptime["90d"], 1 - 13 / 40);

  const { text: html } = await get(t, "/status/acme");
  const t_ = translator("en");
  for (const day of billing.days) assert.ok(html.includes(`title="${dayText(day, t_, "en")}"`));
  assert.ok(html.includes('title="2026-03-02: 20.00% up, 1 incident, 8 min down"'));
  assert.ok(
    html.includes('title="2026-03-03: 83.33% up, 1 incident, 5 min down, 10 min maintenance"'),
  );
  assert.equal(html.match(/class="sp-day sp-none"/g)?.length, 88 + 90); // Search: no data
  assert.equal(html.match(/class="sp-day sp-major"/g)?.length, 2);
});

Deno.test("the page and its JSON tell the same: overall state, groups, jobs, incidents", async () => {
  const { t, job, other } = await midnightStory();
  await using _ = t;
  const [incident] = (await t.call<Incident[]>("GET", `/api/incidents?jobId=${job.id}`)).body.data;
  assert.deepEqual((await json(t, "acme")).incidents[0].updates, []); // built and cached
  expectStatus(
    await t.call("POST", `/api/incidents/${incident.id}/updates`, {
      body: { message: "Fixed: a <script>alert(1)</script> & a disk" },
    }),
    201,
  );
  const view = await json(t, "acme");
  assert.equal(view.overall, "operational");
  assert.deepEqual(view.groups.map((g) => g.name), ["Payments", "Site"]);
  assert.deepEqual(view.groups.map((g) => g.jobs.map((j) => [j.id, j.name, j.state])), [
    [[job.id, "Billing API", "up"]],
    [[other.id, "Search", "pending"]],
  ]);
  assert.deepEqual(view.incidents, [{
    jobId: job.id,
    jobName: "Billing API",
    state: "resolved",
    kind: "down",
    acknowledged: false,
    startedAt: "2026-03-02T23:52:00.000Z",
    endedAt: "2026-03-03T00:05:00.000Z",
    durationMs: 13 * MINUTE,
    updates: [{
      at: new Date(at(50)).toISOString(),
      message: view.incidents[0].updates[0].message,
    }],
  }]);
  const { response, text: html } = await get(t, "/status/acme");
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.ok(html.includes("<h1>Acme &lt;Cloud></h1>"));
  assert.ok(html.includes("Our &amp; your services"));
  assert.ok(html.includes("All systems operational"));
  assert.ok(html.includes("Past incidents (14 days)"));
  assert.ok(html.includes("2026-03-02 23:52 UTC to 2026-03-03 00:05 UTC (13 min)"));
  assert.ok(html.includes("Fixed: a &lt;script>alert(1)&lt;/script> &amp; a disk"));
  assert.ok(!html.includes("<script"), "no script at all, the injected one escaped");
  assert.ok(html.includes("No data yet"));
  assert.ok(html.indexOf("Payments") < html.indexOf("Site"));
});

Deno.test("the page works without JavaScript, in English or Japanese, with a switch", async () => {
  const { t } = await midnightStory();
  await using _ = t;
  const en = await get(t, "/status/acme");
  assert.equal(en.response.status, 200);
  assert.match(en.text, /<html lang="en">/);
  assert.ok(!/<script/i.test(en.text));
  assert.ok(en.text.includes('href="?lang=ja"'));
  const csp = en.response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.ok(!csp.includes("script-src"), "no script may run");
  assert.ok(!csp.includes("unsafe-inline"));
  assert.equal(en.response.headers.get("x-content-type-options"), "nosniff");
  assert.match(en.response.headers.get("vary") ?? "", /Accept-Language/);

  const ja = await get(t, "/status/acme", { "accept-language": "ja-JP,ja;q=0.9,en;q=0.5" });
  assert.match(ja.text, /<html lang="ja">/);
  assert.ok(ja.text.includes("すべてのシステムが正常に稼働しています"));
  assert.ok(ja.text.includes('title="2026-03-02：稼働率 20.00%、障害1件、停止 8分"'));
  assert.ok(ja.text.includes('href="?lang=en"'));
  const switched = await get(t, "/status/acme?lang=en", { "accept-language": "ja" });
  assert.match(switched.text, /<html lang="en">/);
  const asked = await get(t, "/status/acme?lang=ja");
  assert.match(asked.text, /<html lang="ja">/);
});

Deno.test("nothing private shows: no URL, header, cause text or internal id beyond job ids", async () => {
  const { t, job } = await midnightStory();
  await using _ = t;
  const { text: html } = await get(t, "/status/acme");
  const { text: body } = await get(t, "/status/acme.json");
  const [incident] = (await t.call<Incident[]>("GET", `/api/incidents?jobId=${job.id}`)).body.data;
  for (const text of [html, body]) {
    for (const secret of ["private-host", "tok-93817", "hunter2", "Authorization", "503"]) {
      assert.ok(!text.includes(secret), `${secret} leaked`);
    }
    assert.ok(!text.includes(incident.cause), "the failure text leaked");
    assert.ok(!text.includes(incident.id), "the incident id leaked");
    assert.ok(!text.includes("default"), "the owner leaked");
    assert.ok(!text.includes("sp_"), "the page id leaked");
  }
});

Deno.test("badges are SVG with shields' colours; a job's badge by status or uptime", async () => {
  const { t, job } = await midnightStory();
  await using _ = t;
  const overall = await get(t, "/status/acme/badge.svg");
  assert.equal(overall.response.status, 200);
  assert.equal(overall.response.headers.get("content-type"), "image/svg+xml; charset=utf-8");
  assert.equal(overall.response.headers.get("cache-control"), "public, no-cache");
  assert.ok(overall.response.headers.get("etag"));
  assert.match(overall.text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>.*<\/svg>$/s);
  assert.match(overall.text, /aria-label="status: operational"/);
  assert.match(overall.text, /fill="#4c1"/);
  const status = await get(t, `/status/acme/badge/${job.id}.svg`);
  assert.match(status.text, /aria-label="Billing API: up"/);
  const uptime = await get(t, `/status/acme/badge/${job.id}.svg?type=uptime`);
  assert.match(uptime.text, /aria-label="Billing API: 67.50%"/);
  assert.match(uptime.text, /fill="#e05d44"/);
  for (
    const path of [`/status/acme/badge/${job.id}.svg?type=latency`, "/status/acme/badge/x.svg"]
  ) {
    const answer = await get(t, path);
    assert.equal(answer.response.status, 404);
    assert.match(answer.text, /not found/);
  }
  const revalidated = await t.system.app.request("/status/acme/badge.svg", {
    headers: { "if-none-match": overall.response.headers.get("etag")! },
  });
  assert.equal(revalidated.status, 304);
});

Deno.test("a job taken off the page is gone from its JSON and badges at once", async () => {
  const { t, job, other, page } = await midnightStory();
  await using _ = t;
  assert.equal((await get(t, `/status/acme/badge/${job.id}.svg`)).response.status, 200);
  await json(t, "acme"); // built and cached
  expectStatus(
    await t.call("PATCH", `/api/status-pages/${page.id}`, {
      body: { groups: [{ name: "Site", jobIds: [other.id] }] },
    }),
    200,
  );
  const view = await json(t, "acme");
  assert.deepEqual(view.groups.map((g) => g.jobs.map((j) => j.id)), [[other.id]]);
  assert.deepEqual(view.incidents, []);
  assert.equal((await get(t, `/status/acme/badge/${job.id}.svg`)).response.status, 404);
  assert.ok(!(await get(t, "/status/acme")).text.includes("Billing API"));
});

Deno.test("a state change shows at once; another process's within the 15 s cache", async () => {
  const target = switchableProbe();
  const dir = await Deno.makeTempDir();
  try {
    const kvPath = `${dir}/hibiki.kv`;
    await using a = await TestSystem.start({ probe: target.probe, now: START, kvPath });
    await using b = await TestSystem.start({ probe: target.probe, now: START, kvPath });
    const job = await a.createJob({
      name: "API",
      schedule: "* * * * *",
      alerts: { failureThreshold: 1 },
    });
    await makePage(a, [{ name: "G", jobIds: [job.id] }]);
    await tick(a, 1);
    a.clock.set(at(2) - 5_000);
    assert.equal((await json(a, "acme")).overall, "operational");
    target.set("down");
    await tick(a, 2); // decided here, 5 s later: this process shows it at once
    assert.equal((await json(a, "acme")).overall, "major_outage");
    assert.match((await get(a, "/status/acme/badge.svg")).text, /major outage/);

    b.clock.set(at(3) - 5_000);
    assert.equal((await json(b, "acme")).overall, "major_outage");
    target.set("up");
    await tick(a, 3); // decided by the other process
    b.clock.set(at(3));
    assert.equal((await json(b, "acme")).overall, "major_outage", "served from b's cache");
    b.clock.set(at(3) + 10_000); // 15 s after b built it
    assert.equal((await json(b, "acme")).overall, "operational");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("an unknown slug answers 404 everywhere; HEAD answers without a body", async () => {
  await using t = await TestSystem.start();
  const page = await get(t, "/status/nobody-here");
  assert.equal(page.response.status, 404);
  assert.match(page.text, /Status page not found/);
  assert.equal(page.response.headers.get("x-content-type-options"), "nosniff");
  for (const path of ["/status/nobody-here.json", "/status/NOPE", "/status/a/badge.svg"]) {
    assert.equal((await get(t, path)).response.status, 404, path);
  }
  await makePage(t, []);
  const head = await t.system.app.request("/status/acme", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  assert.equal(head.headers.get("content-type"), "text/html; charset=utf-8");
  const signedOut = await t.system.app.request("/status/acme.json", {
    headers: { authorization: `Bearer ${ROOT_KEY}x` },
  });
  assert.equal(signedOut.status, 200, "no key is needed or checked");
});
