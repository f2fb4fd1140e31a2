/**
 * What the server-rendered admin pages say, read as a person reads them: times as "3 minutes
 * ago" with the exact time on hover (in the viewer's zone once a page script has told it, and
 * in UTC), no "— UTC" for a time that is not there, checks in words, no heading without
 * anything under it, a favicon, and the job page's live feed.
 */
import assert from "node:assert/strict";
import type { ProbeResult } from "../lib/net/probe.ts";
import { type AdminClient, AdminTestSystem } from "./admin_client.ts";
import { okProbe, T0 } from "./helpers.ts";

async function signedIn(probe: () => ProbeResult = okProbe) {
  const s = await AdminTestSystem.start({}, { probe: () => Promise.resolve(probe()) });
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  return { s, client };
}

/** Runs the job now and waits for the run to be written. */
async function runOnce(s: AdminTestSystem, client: AdminClient, jobId: string): Promise<string> {
  const { runId } = await client.api<{ runId: string }>("POST", `/api/jobs/${jobId}/run`);
  await s.system.lanes.fires.drain();
  for (let i = 0; i < 100; i++) {
    const runs = await client.api<{ id: string }[]>("GET", `/api/jobs/${jobId}/runs?limit=1`);
    if (runs[0]?.id === runId) return runId;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Run ${runId} was not written`);
}

/** Every `<time>` element: its datetime, its title (hover) and its text. */
function times(html: string): { datetime: string; title: string; text: string }[] {
  return [...html.matchAll(/<time datetime="([^"]+)" title="([^"]*)"[^>]*>([^<]*)<\/time>/g)]
    .map(([, datetime, title, text]) => ({
      datetime,
      title: title.replaceAll("&#10;", "\n").replaceAll("\n", "\n"),
      text,
    }));
}

Deno.test("times read as how long ago, with the exact time in UTC on hover", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Ping",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  await runOnce(s, client, job.id);
  s.clock.advance(3 * 60_000 + 10_000);
  const ran = new Date(T0).toISOString();
  for (const path of ["/admin", `/admin/jobs/${job.id}`]) {
    const shown = times((await client.get(path)).html).filter((t) => t.datetime === ran);
    assert.ok(shown.length > 0, `no <time> of the run on ${path}`);
    for (const time of shown) {
      assert.equal(time.text, "3 minutes ago", path);
      assert.equal(time.title, "2026-03-02 12:00:00 UTC", path);
    }
  }
  const ja = times((await client.get(`/admin/jobs/${job.id}`, { "accept-language": "ja" })).html);
  assert.ok(ja.some((t) => t.datetime === ran && t.text === "3 分前"));
});

Deno.test("once the browser told its zone, hover shows that wall clock and then UTC", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Ping",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  await runOnce(s, client, job.id);
  client.cookies.set("hibiki_tz", "Asia/Tokyo");
  const shown = times((await client.get(`/admin/jobs/${job.id}`)).html)
    .filter((t) => t.datetime === new Date(T0).toISOString());
  assert.ok(shown.length > 0);
  for (const time of shown) {
    assert.equal(time.title, "2026-03-02 21:00:00 +09:00 (Asia/Tokyo)\n2026-03-02 12:00:00 UTC");
  }
  // A zone that is not one is ignored, not shown or thrown.
  client.cookies.set("hibiki_tz", "Mars%2FOlympus%3Cb%3E");
  const page = await client.get(`/admin/jobs/${job.id}`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.html, /Mars/);
});

Deno.test("a time that is not there is a dash, with no UTC after it", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Never ran",
    url: "https://example.com/",
    schedule: "0 9 * * *",
    enabled: false,
  });
  const page = await client.get(`/admin/jobs/${job.id}`);
  assert.doesNotMatch(page.html, /—\s*UTC/);
  assert.doesNotMatch(
    page.html,
    /UTC\)?<\/th>/,
    "a column head says UTC although times are relative",
  );
});

Deno.test("a job's checks read as words, not JSON", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Strict",
    url: "https://example.com/",
    schedule: "0 9 * * *",
    expect: { status: [200, 204], bodyContains: "ok", maxLatencyMs: 500 },
  });
  const checks = async (id: string, headers: Record<string, string> = {}) =>
    /<dt>(?:Checks|チェック)<\/dt><dd>([^<]*)<\/dd>/.exec(
      (await client.get(`/admin/jobs/${id}`, headers)).html,
    )?.[1];
  assert.equal(
    await checks(job.id),
    "Status 200 or 204 · body contains “ok” · answers within 500 ms",
  );
  assert.equal(
    await checks(job.id, { "accept-language": "ja" }),
    "ステータス 200 または 204 · ボディに「ok」を含む · 500 ms 以内に応答",
  );
  const plain = await client.createJob({
    name: "Plain",
    url: "https://example.com/",
    schedule: "0 9 * * *",
    expect: { status: [200, 201, 204], bodyContains: "<b>" },
  });
  assert.equal(await checks(plain.id), "Status 200, 201 or 204 · body contains “&lt;b>”");
  const any = await client.createJob({
    name: "Any",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  assert.equal(await checks(any.id), "Any 2xx answer");
});

/** The headings (h1–h3) followed by nothing to read before the next heading or the end. */
function emptyHeadings(html: string): string[] {
  const main = /<main>([\s\S]*)<\/main>/.exec(html)?.[1] ?? "";
  const parts = main.split(/(?=<h[1-3][\s>])/);
  const empty: string[] = [];
  for (const part of parts) {
    const m = /^<h([1-3])[^>]*>([\s\S]*?)<\/h\1>([\s\S]*)$/.exec(part);
    if (!m) continue;
    const text = (s: string) =>
      s.replace(/<(script|style)[\s\S]*?<\/\1>/g, "").replace(/<[^>]+>/g, "").replace(/\s+/g, "");
    // The section ends where the next heading starts, or where its own element closes.
    const after = m[3].split(/<\/(?:section|form)>/)[0];
    const hasControl = /<(input|select|textarea|button|canvas|div data-island)/.test(after);
    if (!text(m[2]) || (!text(after) && !hasControl)) empty.push(text(m[2]) || `<h${m[1]}>`);
  }
  return empty;
}

Deno.test("no admin page shows a heading with nothing under it", async () => {
  const { s, client } = await signedIn(() => ({ ...okProbe(), headers: {}, body: "" }));
  await using _ = s;
  const job = await client.createJob({
    name: "Quiet",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const runId = await runOnce(s, client, job.id);
  const idle = await client.createJob({
    name: "Idle",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  // An inbound event without a body, kept and not acted on.
  const hook = await client.api<{ id: string }>("POST", "/api/hooks", {
    name: "deploys",
    verification: { mode: "header_secret", header: "Secret", secret: "s3cret-value" },
    action: { type: "store" },
  });
  const received = await s.system.app.request(`http://hibiki.test/hooks/${hook.id}`, {
    method: "POST",
    headers: { secret: "s3cret-value" },
  });
  await received.body?.cancel();
  const [event] = await client.api<{ id: string }[]>("GET", `/api/hooks/${hook.id}/events`);
  for (
    const path of [
      "/admin",
      `/admin/jobs/${job.id}`,
      `/admin/jobs/${idle.id}`,
      `/admin/jobs/${job.id}/runs/${runId}`,
      "/admin/jobs/new",
      "/admin/keys",
      "/admin/workers",
      "/admin/users",
      "/admin/account",
      "/admin/credentials",
      "/admin/hooks",
      `/admin/hooks/${hook.id}`,
      `/admin/hooks/${hook.id}/events/${event.id}`,
      "/admin/channels",
      "/admin/maintenance",
    ]
  ) {
    const page = await client.get(path);
    assert.equal(page.status, 200, path);
    assert.deepEqual(emptyHeadings(page.html), [], path);
  }
});

Deno.test("every page links an SVG favicon, kept by browsers for a year under its hash", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  for (const path of ["/admin", "/admin/keys", "/admin/jobs/no-such-job"]) {
    const page = await client.get(path);
    const link =
      /<link rel="icon" type="image\/svg\+xml" href="(\/static\/favicon\.svg\?v=[0-9a-f]+)"/
        .exec(page.html);
    assert.ok(link, `no favicon link on ${path}`);
    const icon = await client.get(link[1]);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get("content-type"), "image/svg+xml");
    assert.match(icon.headers.get("cache-control") ?? "", /max-age=31536000, immutable/);
    assert.match(icon.html, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  }
  // Browsers and tools that ask for /favicon.ico without reading the page get it too.
  const bare = await s.client().get("/favicon.ico");
  assert.equal(bare.status, 200);
  assert.equal(bare.headers.get("content-type"), "image/svg+xml");
  assert.match(bare.headers.get("cache-control") ?? "", /^public, max-age=86400$/);
});

Deno.test("the job page's live feed has the state, the figures and the newest runs", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Ping",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const live = async () => JSON.parse((await client.get(`/admin/jobs/${job.id}/live.json`)).html);
  const before = await live();
  assert.equal(before.state, "pending");
  assert.equal(before.figures.count, 0);
  assert.equal(before.figures.lastRunAt, null);
  assert.deepEqual(before.runs, []);
  const runId = await runOnce(s, client, job.id);
  const after = await live();
  assert.equal(after.state, "up");
  assert.equal(after.figures.count, 1);
  assert.equal(after.figures.lastRunAt, new Date(T0).toISOString());
  assert.deepEqual(after.runs.map((r: { id: string }) => r.id), [runId]);
  // Another owner's job is not found, and without a session there is no feed.
  await client.get("/admin/users");
  await client.post("/admin/users", { id: "acme", password: "acme-long-password" });
  const acme = s.client();
  await acme.signIn("acme", "acme-long-password");
  assert.equal((await acme.get(`/admin/jobs/${job.id}/live.json`)).status, 404);
  const anonymous = await s.client().get(`/admin/jobs/${job.id}/live.json`);
  assert.notEqual(anonymous.status, 200);
});
