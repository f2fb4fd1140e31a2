/**
 * The Incidents pages: incidents opened and resolved by real scheduled runs (the test clock, a
 * switchable probe), open ones first, filters, paging, Acknowledge with CSRF recording the
 * signed-in user, one incident's timeline and runs, owners kept apart, a resolved incident's
 * Acknowledge as a 409 page, Japanese. T0 = 2026-03-02 12:00 UTC.
 */
import assert from "node:assert/strict";
import type { Incident } from "../lib/alerts/types.ts";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import { type Answer, MINUTE, switchableProbe } from "./alerts_support.ts";
import { type AdminClient, AdminTestSystem, expectRedirect } from "./admin_client.ts";
import { T0 } from "./helpers.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;

/** Two jobs firing every minute (first run 12:01), each with its own switchable target. */
async function withJobs() {
  const answers = new Map<string, Answer>();
  const s = await AdminTestSystem.start({}, {
    probe: (request) => {
      const answer = answers.get(new URL(request.url).pathname) ?? "up";
      const probe = switchableProbe();
      probe.set(answer);
      return Promise.resolve(probe.probe());
    },
    // Whatever the notification lane does with them, nothing leaves the test.
    notifySend: () =>
      Promise.resolve({
        success: true,
        status: 200,
        durationMs: 5,
        error: null,
        response: "ok",
        permanent: false,
        retryAfterMs: null,
      }),
  });
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops on Slack",
    type: "slack",
    config: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX" },
  });
  const billing = await client.createJob({
    name: "Billing API",
    url: "https://example.com/billing",
    schedule: "* * * * *",
    alerts: { failureThreshold: 1, channels: [{ channelId: channel.id }] },
  });
  const search = await client.createJob({
    name: XSS,
    url: "https://example.com/search",
    schedule: "* * * * *",
    alerts: { failureThreshold: 1 },
  });
  const set = (path: string, answer: Answer) => answers.set(path, answer);
  /** Moves to minute `n` after T0 and waits until its runs are recorded and decided. */
  const atMinute = async (n: number) => {
    s.clock.set(T0 + n * MINUTE);
    await s.system.cronTick();
    for (
      const lane of [s.system.lanes.fires, s.system.lanes.alerts, s.system.lanes.notifications]
    ) {
      await lane.drain();
      while (lane.active > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { s, client, billing, search, channel, set, atMinute };
}

async function incidents(client: AdminClient, query = ""): Promise<Incident[]> {
  return await client.api<Incident[]>("GET", `/api/incidents?limit=100${query}`);
}

/** The text of an element's part of the page: tags dropped, spaces folded. */
function textOf(html: string, pattern: RegExp): string {
  const found = pattern.exec(html)?.[1] ?? "";
  return found.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}

function rowOf(html: string, id: string): string {
  return textOf(html, new RegExp(`<tr data-incident="${id}">(.*?)</tr>`, "s"));
}

Deno.test("open incidents come first with job, start, duration so far, cause and where; resolved ones after", async () => {
  const { s, client, billing, search, set, atMinute } = await withJobs();
  await using _ = s;
  const empty = await client.get("/admin/incidents");
  assert.equal(empty.status, 200);
  assert.match(empty.html, /Nothing is down\./);
  assert.match(empty.html, /No resolved incidents\./);

  set("/search", "down");
  await atMinute(1);
  set("/search", "up");
  await atMinute(2); // the search incident resolves after one minute
  set("/billing", "down");
  await atMinute(3);
  s.clock.set(T0 + 5 * MINUTE + 30_000);
  const [open] = await incidents(client, "&state=open");
  const [resolved] = await incidents(client, "&state=resolved");
  assert.equal(open.jobId, billing.id);
  assert.equal(resolved.jobId, search.id);

  const page = await client.get("/admin/incidents");
  assert.equal(page.status, 200);
  assert.ok(page.html.indexOf(open.id) < page.html.indexOf(resolved.id), "open first");
  const openTable = textOf(page.html, /data-testid="open-incidents">(.*?)<\/table>/s);
  assert.match(openTable, /Billing API/);
  assert.doesNotMatch(openTable, /onerror/);
  assert.equal(
    rowOf(page.html, open.id),
    "Billing API Details 2026-03-02 12:03:00 2 min Expected status 2xx, got 503 local Acknowledge",
  );
  // The open one's duration counts on in the browser; the page loads that island alone.
  assert.match(
    page.html,
    /data-island="live_duration" data-props="\{&quot;elapsedMs&quot;:150000\}"/,
  );
  const scripts = [...page.html.matchAll(/<script type="module" src="([^"?]+)/g)].map((m) => m[1]);
  assert.deepEqual(scripts, ["/static/build/live_duration.js"]);
  assert.match(
    rowOf(page.html, resolved.id),
    /Details 2026-03-02 12:01:00 1 min Expected status 2xx, got 503 local —$/,
  );
  assert.doesNotMatch(page.html, /<img src=x/);
  assert.match(page.html, new RegExp(`href="/admin/jobs/${billing.id}"`));
  assert.match(page.html, new RegExp(`href="/admin/incidents/${open.id}"`));
});

Deno.test("the incidents list filters by state and by job, and pages the resolved ones", async () => {
  const { s, client, billing, search, set, atMinute } = await withJobs();
  await using _ = s;
  // 26 short incidents of the search job, then one open incident of billing.
  for (let i = 0; i < 26; i++) {
    set("/search", "down");
    await atMinute(1 + 2 * i);
    set("/search", "up");
    await atMinute(2 + 2 * i);
  }
  set("/billing", "down");
  await atMinute(53);
  const all = await incidents(client);
  assert.equal(all.length, 27);

  const first = await client.get("/admin/incidents");
  assert.equal((first.html.match(/<tr data-incident=/g) ?? []).length, 1 + 25);
  const next = /<a href="([^"]+)" rel="next">/.exec(first.html)?.[1].replace(/&amp;/g, "&");
  assert.ok(next, "a next page link");
  const second = await client.get(next);
  assert.equal((second.html.match(/<tr data-incident=/g) ?? []).length, 1 + 1);
  assert.doesNotMatch(second.html, /rel="next"/);

  const resolvedOnly = await client.get("/admin/incidents?state=resolved");
  assert.doesNotMatch(resolvedOnly.html, /data-testid="open-incidents"/);
  assert.doesNotMatch(resolvedOnly.html, /Nothing is down/);
  const openOnly = await client.get("/admin/incidents?state=open");
  assert.equal((openOnly.html.match(/<tr data-incident=/g) ?? []).length, 1);
  assert.doesNotMatch(openOnly.html, /id="resolved-title"/);
  assert.match(openOnly.html, /<option value="open" selected>/);

  const billingOnly = await client.get(`/admin/incidents?job=${billing.id}`);
  assert.equal((billingOnly.html.match(/<tr data-incident=/g) ?? []).length, 1);
  assert.match(billingOnly.html, new RegExp(`<option value="${billing.id}" selected>`));
  const searchOnly = await client.get(`/admin/incidents?job=${search.id}&state=resolved`);
  assert.equal((searchOnly.html.match(/<tr data-incident=/g) ?? []).length, 25);
  assert.match(searchOnly.html, new RegExp(`job=${search.id}&amp;cursor=`));

  const bad = await client.get("/admin/incidents?state=closed");
  assert.equal(bad.status, 400);
  assert.match(bad.html, /state must be &quot;open&quot; or &quot;resolved&quot;/);
});

Deno.test("Acknowledge records the signed-in user, needs the CSRF token and comes back where it was pressed", async () => {
  const { s, client, set, atMinute } = await withJobs();
  await using _ = s;
  set("/billing", "down");
  await atMinute(1);
  const [open] = await incidents(client, "&state=open");
  const list = await client.get("/admin/incidents?state=open");
  assert.match(list.html, new RegExp(`action="/admin/incidents/${open.id}/acknowledge"`));
  assert.match(list.html, /name="next" value="\/admin\/incidents\?state=open"/);

  const forged = await client.post(`/admin/incidents/${open.id}/acknowledge`, {
    _csrf: "forged",
    next: "/admin/incidents",
  });
  assert.equal(forged.status, 403);
  assert.equal((await incidents(client))[0].acknowledgedAt, null);

  s.clock.set(T0 + 2 * MINUTE + 5000);
  expectRedirect(
    await client.post(`/admin/incidents/${open.id}/acknowledge`, {
      next: "/admin/incidents?state=open",
    }),
    "/admin/incidents?state=open",
  );
  const [acknowledged] = await incidents(client);
  assert.equal(acknowledged.acknowledgedBy, "default");
  assert.equal(acknowledged.acknowledgedAt, "2026-03-02T12:02:05.000Z");
  const after = await client.get("/admin/incidents");
  assert.doesNotMatch(rowOf(after.html, open.id), /Acknowledge$/);
  assert.match(rowOf(after.html, open.id), /default 2026-03-02 12:02:05$/);

  // From the incident's own page, and never off to another site.
  expectRedirect(
    await client.post(`/admin/incidents/${open.id}/acknowledge`, { next: "https://evil.test/" }),
    `/admin/incidents/${open.id}`,
  );
});

Deno.test("an incident's page tells its timeline and links the runs that caused it", async () => {
  const { s, client, billing, set, atMinute } = await withJobs();
  await using _ = s;
  set("/billing", "down");
  await atMinute(1);
  const [open] = await incidents(client, "&state=open");
  const page = await client.get(`/admin/incidents/${open.id}`);
  assert.equal(page.status, 200);
  assert.match(
    page.html,
    /<h1>Billing API <span class="badge badge-down" data-testid="incident-state">Open<\/span><\/h1>/,
  );
  assert.match(page.html, /Acknowledge<\/button>/);
  const runLink = `/admin/jobs/${billing.id}/runs/${encodeURIComponent(open.runIds[0])}`;
  assert.match(page.html, new RegExp(`href="${runLink}">2026-03-02 12:01:00</a>`));
  assert.equal((await client.get(runLink)).status, 200);
  assert.match(
    textOf(page.html, /data-testid="incident-notifications">(.*?)<\/table>/s),
    /Ops on Slack Down/,
  );

  s.clock.set(T0 + MINUTE + 20_000);
  await client.post(`/admin/incidents/${open.id}/acknowledge`, {});
  set("/billing", "up");
  // Minute by minute: a jump from 12:01 to 12:03 would leave the 12:02 fire to race 12:03's.
  await atMinute(2);
  await atMinute(3);
  const resolved = await client.get(`/admin/incidents/${open.id}`);
  const events = [...resolved.html.matchAll(/<li data-event="(\w+)">/g)].map((m) => m[1]);
  assert.equal(events[0], "opened");
  assert.ok(events.includes("queued"), events.join());
  assert.ok(events.indexOf("acknowledged") < events.indexOf("resolved"), events.join());
  // The state changes, each followed by the messages telling of it.
  // (atMinute drains the notification lane too, so each message's send is in the timeline.)
  assert.deepEqual(events, [
    "opened",
    "queued",
    "sent",
    "acknowledged",
    "resolved",
    "queued",
    "sent",
  ]);
  const timeline = textOf(resolved.html, /data-testid="timeline">(.*?)<\/ol>/s);
  assert.match(timeline, /2026-03-02 12:01:00 Opened : Expected status 2xx, got 503 local/);
  assert.match(timeline, /Down message queued for Ops on Slack/);
  assert.match(timeline, /Acknowledged by default/);
  assert.match(timeline, /2026-03-02 12:02:00 Resolved after 1 min/);
  assert.match(
    timeline,
    /Resolved message queued for Ops on Slack 2026-03-02 12:02:00 Sent Ops on Slack, attempt 1· Status 200 · 5 ms ok$/,
  );
  assert.match(resolved.html, /data-testid="incident-state">Resolved</);
  assert.doesNotMatch(resolved.html, /Acknowledge<\/button>/);
});

Deno.test("acknowledging an incident that resolved meanwhile is a 409 page", async () => {
  const { s, client, set, atMinute } = await withJobs();
  await using _ = s;
  set("/billing", "down");
  await atMinute(1);
  const [open] = await incidents(client, "&state=open");
  await client.get("/admin/incidents");
  set("/billing", "up");
  await atMinute(2);
  const lost = await client.post(`/admin/incidents/${open.id}/acknowledge`, {});
  assert.equal(lost.status, 409);
  assert.match(lost.html, /Not saved: it changed meanwhile/);
  assert.match(lost.html, /it is resolved/);
});

Deno.test("another user's incident is a 404 page and never listed", async () => {
  const { s, client: admin, set, atMinute } = await withJobs();
  await using _ = s;
  set("/billing", "down");
  await atMinute(1);
  const [open] = await incidents(admin, "&state=open");
  await admin.get("/admin/users");
  await admin.post("/admin/users", { id: "acme", password: "acme-long-password" });
  const acme = s.client();
  await acme.signIn("acme", "acme-long-password");
  const list = await acme.get("/admin/incidents");
  assert.doesNotMatch(list.html, /Billing API/);
  assert.doesNotMatch(list.html, new RegExp(open.id));
  const page = await acme.get(`/admin/incidents/${open.id}`);
  assert.equal(page.status, 404);
  assert.doesNotMatch(page.html, /Billing API/);
  const ack = await acme.post(`/admin/incidents/${open.id}/acknowledge`, {});
  assert.equal(ack.status, 404);
  assert.equal((await incidents(admin))[0].acknowledgedAt, null);
  assert.equal((await acme.get("/admin/incidents/inc_nonsense")).status, 404);
});

Deno.test("the incidents pages speak Japanese", async () => {
  const { s, client, set, atMinute } = await withJobs();
  await using _ = s;
  set("/billing", "down");
  await atMinute(1);
  const [open] = await incidents(client, "&state=open");
  const ja = { "accept-language": "ja" };
  const list = await client.get("/admin/incidents", ja);
  assert.match(list.html, /<h1>インシデント<\/h1>/);
  assert.match(list.html, /確認済みにする<\/button>/);
  const page = await client.get(`/admin/incidents/${open.id}`, ja);
  assert.match(page.html, /タイムライン/);
  assert.match(page.html, /原因となった実行/);
});

Deno.test("a job's page shows its alert state, its uptime over 24 h to 90 d and its latest incidents", async () => {
  const { s, client, billing, set, atMinute } = await withJobs();
  await using _ = s;
  const fresh = await client.get(`/admin/jobs/${billing.id}`);
  assert.match(fresh.html, /data-testid="alert-state">No result yet</);
  assert.match(fresh.html, /No incidents yet\./);
  assert.match(
    textOf(fresh.html, /data-testid="alert-rule">(.*?)<\/p>/s),
    /^Failing checks in a row before down: 1; passing ones before up: 1\. Channels told: 1\.$/,
  );

  set("/billing", "down");
  await atMinute(1);
  set("/billing", "up");
  await atMinute(2);
  await atMinute(9);
  const up = await client.get(`/admin/jobs/${billing.id}`);
  assert.match(
    up.html,
    /<h1>Billing API <span data-island="job_state"[^>]*><span class="badge badge-up">Up<\/span>/,
  );
  // Down one minute of the nine it has existed, in every window alike.
  assert.equal(
    textOf(up.html, /data-testid="uptime">(.*?)<\/dl>/s),
    "Uptime, 24 hours 88.88 % Uptime, 7 days 88.88 % Uptime, 30 days 88.88 % Uptime, 90 days 88.88 %",
  );

  set("/billing", "down");
  await atMinute(10);
  const down = await client.get(`/admin/jobs/${billing.id}`);
  assert.match(
    down.html,
    /<h1>Billing API <span data-island="job_state"[^>]*><span class="badge badge-down">Down<\/span>/,
  );
  const [open, resolved] = await incidents(client, `&jobId=${billing.id}`);
  assert.match(down.html, new RegExp(`href="/admin/incidents/${open.id}">Open incident</a>`));
  const listed = [...down.html.matchAll(/<a href="\/admin\/incidents\/(inc_\w+)">Down/g)].map((m) =>
    m[1]
  );
  assert.deepEqual(listed, [open.id, resolved.id]);
  assert.match(
    textOf(down.html, /data-testid="job-incidents">(.*?)<\/ol>/s),
    /^2026-03-02 12:10:00 Down, still open Expected status 2xx, got 503 2026-03-02 12:01:00 → 2026-03-02 12:02:00 Down for 1 min/,
  );
  assert.match(down.html, new RegExp(`href="/admin/incidents\\?job=${billing.id}">All incidents`));

  await client.post(`/admin/jobs/${billing.id}/pause`, {});
  const paused = await client.get(`/admin/jobs/${billing.id}`);
  assert.match(paused.html, /data-testid="alert-state">Paused</);
});
