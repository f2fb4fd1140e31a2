/**
 * The admin pages for heartbeat jobs: the job form's heartbeat target (schedule and grace),
 * the job page's ping URL with `curl` and crontab lines to copy, and a ping's run page.
 */
import assert from "node:assert/strict";
import type { JobView, Run } from "../lib/store/types.ts";
import { AdminTestSystem, expectRedirect } from "./admin_client.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;

async function signedIn() {
  const s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  return { s, client };
}

const HEARTBEAT_FIELDS = {
  target: "heartbeat",
  name: "Nightly backup",
  schedule: "30 2 * * *",
  timezone: "Asia/Tokyo",
  graceSeconds: "900",
  enabled: "1",
  local: "1",
  // The other targets' fieldsets are on the page too; their values are ignored.
  url: "",
  method: "GET",
  timeoutSeconds: "30",
};

Deno.test("the job form creates a heartbeat, and its page shows the ping URL with curl and crontab lines", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const form = await client.get("/admin/jobs/new");
  assert.match(form.html, /<option value="heartbeat">Heartbeat \(the job pings Hibiki\)<\/option>/);
  assert.match(form.html, /<fieldset id="target-heartbeat" data-target="heartbeat">/);
  assert.match(form.html, /<input[^>]*name="graceSeconds"[^>]*value="3600"/);

  const created = await client.post("/admin/jobs/new", HEARTBEAT_FIELDS);
  expectRedirect(created, /^\/admin\/jobs\/[0-9a-f-]{36}$/);
  const job = await client.api<JobView>("GET", created.location!.replace("/admin", "/api"));
  assert.equal(job.type, "heartbeat");
  assert.equal(job.graceSeconds, 900);
  assert.equal(job.timezone, "Asia/Tokyo");

  const page = await client.get(created.location!);
  assert.equal(page.status, 200);
  const url = job.pingUrl!;
  assert.match(url, /^http:\/\/hibiki\.test\/ping\/[A-Za-z0-9_-]{32}$/);
  assert.ok(page.html.includes(`<code class="copy" data-testid="ping-url">${url}</code>`));
  assert.ok(page.html.includes(`curl -fsS -m 10 --retry 5 -o /dev/null ${url}</pre>`));
  assert.ok(page.html.includes(`-o /dev/null ${url}/start\nyour-command\n`));
  assert.ok(
    page.html.includes(
      `CRON_TZ=Asia/Tokyo\n30 2 * * * your-command &amp;&amp; curl -fsS -m 10 --retry 5 -o /dev/null ${url}`,
    ),
  );
  assert.match(page.html, /checked 15 min after each scheduled time/);
  // A heartbeat runs when pinged: no "Run now".
  assert.doesNotMatch(page.html, /Run now/);
  // The dashboard's row says what it is rather than an empty request.
  const dashboard = JSON.parse((await client.get("/admin/dashboard.json")).html);
  const row = dashboard.rows.find((r: { id: string }) => r.id === job.id);
  assert.deepEqual([row.method, row.url], ["PING", "heartbeat, grace 900 s"]);
});

Deno.test("an @every heartbeat's page says it has no crontab form", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({ type: "heartbeat", name: "Queue", schedule: "@every 5m" });
  const page = await client.get(`/admin/jobs/${job.id}`);
  assert.doesNotMatch(page.html, /data-testid="ping-crontab"/);
  assert.match(page.html, /This schedule has no crontab form/);
});

Deno.test("editing a heartbeat shows only its own fields and saves its grace", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({ type: "heartbeat", name: "Backup", schedule: "0 3 * * *" });
  const form = await client.get(`/admin/jobs/${job.id}/edit`);
  assert.match(form.html, /<fieldset id="target-heartbeat" data-target="heartbeat">/);
  for (const id of ["target-http", "target-cloud-run", "http-checks", "job-places"]) {
    assert.doesNotMatch(form.html, new RegExp(`id="${id}"`), id);
  }
  const saved = await client.post(`/admin/jobs/${job.id}/edit`, {
    name: "Backup",
    schedule: "0 3 * * *",
    timezone: "UTC",
    graceSeconds: "120",
    enabled: "1",
  });
  expectRedirect(saved, `/admin/jobs/${job.id}`);
  const after = await client.api<JobView>("GET", `/api/jobs/${job.id}`);
  assert.deepEqual([after.graceSeconds, after.pingUrl], [120, job.pingUrl]);
  const refused = await client.post(`/admin/jobs/${job.id}/edit`, {
    name: "Backup",
    schedule: "0 3 * * *",
    timezone: "UTC",
    graceSeconds: "0",
    enabled: "1",
  });
  assert.equal(refused.status, 400);
  assert.match(refused.html, /graceSeconds must be at least 1/);
});

Deno.test("a ping's run page shows its signal, sender and body, escaped", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({ type: "heartbeat", name: "Backup", schedule: "@daily" });
  const answer = await s.system.app.request(`${job.pingUrl}/7`, {
    method: "POST",
    body: XSS,
    headers: { "user-agent": XSS },
  }, { remoteAddr: { transport: "tcp", hostname: "192.0.2.10", port: 50_000 } });
  assert.equal(answer.status, 200);
  const [run] = await client.api<Run[]>("GET", `/api/jobs/${job.id}/runs`);
  const page = await client.get(`/admin/jobs/${job.id}/runs/${run.id}`);
  assert.equal(page.status, 200);
  assert.match(page.html, /Exit code 7/);
  assert.match(page.html, /192\.0\.2\.10/);
  assert.doesNotMatch(page.html, /<img src=x/);
  assert.match(page.html, /data-testid="ping-body">&lt;img src=x onerror=alert\(1\)/);
  assert.doesNotMatch(page.html, /HTTP status/);
});
