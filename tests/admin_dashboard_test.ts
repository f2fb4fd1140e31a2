/**
 * The dashboard (issue 13): counts by state at the top, the state filter on the decided alert
 * state, and each row's heartbeat bar and latency sparkline (from the latest results the store
 * keeps with the runs) and uptime over 24 h and 30 d (from incidents), driven by real scheduled
 * runs on the test clock. T0 = 2026-03-02 12:00 UTC; jobs fire every minute from 12:01.
 */
import assert from "node:assert/strict";
import type { Dashboard } from "../lib/jobs/dashboard.ts";
import { type Answer, MINUTE, switchableProbe } from "./alerts_support.ts";
import { type AdminClient, AdminTestSystem } from "./admin_client.ts";
import { T0 } from "./helpers.ts";

async function withJobs() {
  const answers = new Map<string, Answer>();
  const s = await AdminTestSystem.start({}, {
    probe: (request) => {
      const probe = switchableProbe();
      probe.set(answers.get(new URL(request.url).pathname) ?? "up");
      return Promise.resolve(probe.probe());
    },
  });
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  const job = (name: string, path: string, alerts: Record<string, unknown> = {}) =>
    client.createJob({
      name,
      url: `https://example.com${path}`,
      schedule: "* * * * *",
      alerts: { failureThreshold: 1, ...alerts },
    });
  const billing = await job("Billing API", "/billing");
  const search = await job("Search", "/search", { degradedLatencyMs: 500 });
  const docs = await job("Docs", "/docs");
  const idle = await job("Idle", "/idle");
  await client.post(`/admin/jobs/${idle.id}/pause`, {});
  const atMinute = async (n: number) => {
    s.clock.set(T0 + n * MINUTE);
    await s.system.cronTick();
    for (const lane of [s.system.lanes.fires, s.system.lanes.alerts]) {
      await lane.drain();
      while (lane.active > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { s, client, billing, search, docs, idle, answers, atMinute };
}

async function dashboardJson(client: AdminClient, query: string): Promise<Dashboard> {
  const answer = await client.get(`/admin/dashboard.json${query}`);
  assert.equal(answer.status, 200);
  return JSON.parse(answer.html);
}

/** The HTML of a job's row. */
function rowOf(html: string, id: string): string {
  return new RegExp(`<tr data-job="${id}">(.*?)</tr>`, "s").exec(html)?.[1] ?? "";
}

/** The text of some HTML: tags dropped, spaces folded. */
function textOf(html: string): string {
  return html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}

Deno.test("the dashboard counts jobs by alert state and filters by it", async () => {
  const { s, client, billing, search, docs, idle, answers, atMinute } = await withJobs();
  await using _ = s;
  const fresh = await client.get("/admin");
  assert.equal(
    textOf(/<nav class="state-counts"[^>]*>(.*?)<\/nav>/s.exec(fresh.html)![1]),
    "0 Up 0 Down 0 Degraded 1 Paused 0 Maintenance 3 Pending",
  );
  answers.set("/billing", "down");
  answers.set("/search", "slow");
  await atMinute(1);
  const page = await client.get("/admin");
  assert.equal(
    textOf(/<nav class="state-counts"[^>]*>(.*?)<\/nav>/s.exec(page.html)![1]),
    "1 Up 1 Down 1 Degraded 1 Paused 0 Maintenance",
  );
  assert.match(
    page.html,
    /<a href="\/admin\?state=down" class="count count-down" data-state="down">/,
  );
  const listed = async (state: string) => {
    const answer = await client.get(`/admin?state=${state}`);
    assert.equal(answer.status, 200);
    return [...answer.html.matchAll(/<tr data-job="([^"]+)"/g)].map((m) => m[1]);
  };
  assert.deepEqual(await listed("down"), [billing.id]);
  assert.deepEqual(await listed("degraded"), [search.id]);
  assert.deepEqual(await listed("up"), [docs.id]);
  assert.deepEqual(await listed("paused"), [idle.id]);
  assert.deepEqual(await listed("maintenance"), []);
  const filtered = await client.get("/admin?state=down");
  assert.match(filtered.html, /<a href="\/admin" class="count count-down" aria-current="true"/);
  assert.match(rowOf(filtered.html, billing.id), /<span class="badge badge-down">Down<\/span>/);
  assert.equal((await client.get("/admin?state=sideways")).status, 400);
  const json = await dashboardJson(client, "?state=degraded");
  assert.deepEqual(json.rows.map((r) => [r.name, r.state]), [["Search", "degraded"]]);
  assert.equal(json.counts.degraded, 1);
});

Deno.test("each row draws its latest results, latency and exact uptime without reading runs", async () => {
  const { s, client, billing, search, answers, atMinute } = await withJobs();
  await using _ = s;
  answers.set("/billing", "down");
  await atMinute(1);
  answers.set("/billing", "up");
  await atMinute(2);
  await atMinute(3);
  await atMinute(4);
  answers.set("/billing", "slow");
  await atMinute(5);
  answers.set("/billing", "up");
  for (let n = 6; n <= 9; n++) await atMinute(n);
  const page = await client.get("/admin");
  const row = rowOf(page.html, billing.id);
  // Nine results in the last nine of the 50 slots (4 units each), a line per run alike.
  assert.match(
    row,
    /<path class="b-u" d="M168 8h32"><\/path><path class="b-d" d="M164 8h4"><\/path>/,
  );
  assert.match(row, /<title>Latest results: 2026-03-02 12:09:00 UTC · Up · 12 ms<\/title>/);
  // 12 ms everywhere but 900 ms at 12:05: the line at the bottom, one peak at the top.
  assert.match(
    row,
    /<svg class="spark"[^>]*><path d="M166 22l4 0l4 0l4 0l4-20l4 20l4 0l4 0l4 0"><\/path>/,
  );
  // Down one minute of the nine it has existed: over 24 h and 30 d alike.
  assert.match(
    row,
    /data-label="Uptime 24 h \/ 30 d">88\.88 %<small>88\.88 %<\/small>/,
  );
  // Slower than its degraded latency: drawn as degraded; never down, so 100 % up.
  const slow = rowOf(page.html, search.id);
  assert.match(slow, /data-label="Uptime 24 h \/ 30 d">100 %<small>100 %<\/small>/);
  answers.set("/search", "slow");
  await atMinute(10);
  const later = rowOf((await client.get("/admin")).html, search.id);
  assert.match(
    later,
    /<path class="b-u" d="M160 8h36"><\/path><path class="b-g" d="M196 8h4"><\/path>/,
  );
  assert.match(later, /<span class="badge badge-degraded">Degraded<\/span>/);
  // The live table's JSON carries the same, compact.
  const json = await dashboardJson(client, "");
  const beats = json.rows.find((r) => r.id === billing.id)!.beats;
  assert.equal(beats.s, "duuuuuuuuu");
  assert.deepEqual(beats.t, [(T0 + MINUTE) / 1000, 60, 9]);
  assert.deepEqual(beats.ms, [12, 12, 12, 12, 900, 12, 12, 12, 12, 12]);
});
