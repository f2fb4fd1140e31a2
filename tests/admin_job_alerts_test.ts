/**
 * The job form's Alerts part: the documented defaults as placeholders, the owner's channels with
 * an escalation delay and "also when it ends" each, what is saved, emptied fields going back to
 * the defaults on an edit, the API's refusals beside the setting they name with the input kept,
 * another owner's channel refused, Japanese.
 */
import assert from "node:assert/strict";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import type { JobView } from "../lib/store/types.ts";
import { type AdminClient, AdminTestSystem, expectRedirect } from "./admin_client.ts";

const SLACK = { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX" };

async function signedIn() {
  const s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  const ops = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops on Slack",
    type: "slack",
    config: SLACK,
  });
  const pager = await client.api<ChannelView>("POST", "/api/channels", {
    name: "On-call pager",
    type: "pagerduty",
    config: { routingKey: "0123456789abcdef0123456789abcdef" },
  });
  return { s, client, ops, pager };
}

const JOB = {
  name: "Billing API",
  url: "https://example.com/health",
  method: "GET",
  schedule: "*/5 * * * *",
  timezone: "UTC",
  timeoutSeconds: "30",
  enabled: "1",
  local: "1",
};

/** An input's value ("" for preact's bare `value` of an empty one). */
function inputValue(html: string, id: string): string | null {
  const found = new RegExp(`<input id="${id}" [^>]*?value(?:="([^"]*)")?[ />]`).exec(html);
  return found ? found[1] ?? "" : null;
}

function placeholder(html: string, id: string): string | null {
  return new RegExp(`<input id="${id}" [^>]*placeholder="([^"]*)"`).exec(html)?.[1] ?? null;
}

function errorText(html: string, id: string): string | null {
  return new RegExp(`id="${id}-error"[^>]*>([^<]+)<`).exec(html)?.[1] ?? null;
}

async function onlyJob(client: AdminClient): Promise<JobView> {
  const [job] = await client.api<JobView[]>("GET", "/api/jobs");
  return job;
}

Deno.test("the new job form's Alerts part shows the defaults and the owner's channels, and saves what is chosen", async () => {
  const { s, client, ops, pager } = await signedIn();
  await using _ = s;
  const form = await client.get("/admin/jobs/new");
  assert.match(form.html, /<legend>Alerts<\/legend>/);
  assert.equal(inputValue(form.html, "job-alerts-failure-threshold"), "");
  assert.equal(placeholder(form.html, "job-alerts-failure-threshold"), "default");
  assert.match(
    form.html,
    /Empty: 3 for a job checked every 5 minutes or more often, 1 for one checked less often\./,
  );
  assert.equal(placeholder(form.html, "job-alerts-quorum"), "a majority");
  assert.match(form.html, /Only for a job checked from several places/);
  assert.equal(placeholder(form.html, "job-alerts-remind"), "never");
  for (const channel of [ops, pager]) {
    assert.match(form.html, new RegExp(`name="alerts.channel.${channel.id}" value="1"/>`));
    // "Also when it ends" starts ticked, as the API's default is.
    assert.match(
      form.html,
      new RegExp(`name="alerts.onResolve.${channel.id}" value="1" checked`),
    );
  }

  expectRedirect(
    await client.post("/admin/jobs/new", {
      ...JOB,
      "alerts.failureThreshold": "2",
      "alerts.successThreshold": "",
      "alerts.degradedLatencyMs": "800",
      "alerts.quorum": "",
      "alerts.remindEveryMinutes": "30",
      [`alerts.channel.${ops.id}`]: "1",
      [`alerts.delay.${ops.id}`]: "",
      [`alerts.onResolve.${ops.id}`]: "1",
      [`alerts.channel.${pager.id}`]: "1",
      [`alerts.delay.${pager.id}`]: "15",
      [`alerts.delay.${"x"}`]: "99",
    }),
    /^\/admin\/jobs\//,
  );
  const job = await onlyJob(client);
  assert.deepEqual(job.alerts, {
    failureThreshold: 2,
    successThreshold: 1,
    degradedLatencyMs: 800,
    quorum: null,
    channels: [
      { channelId: ops.id, onResolve: true },
      { channelId: pager.id, delayMinutes: 15, onResolve: false },
    ],
    remindEveryMinutes: 30,
  });

  const edit = await client.get(`/admin/jobs/${job.id}/edit`);
  assert.equal(inputValue(edit.html, "job-alerts-failure-threshold"), "2");
  assert.equal(inputValue(edit.html, "job-alerts-degraded"), "800");
  assert.equal(inputValue(edit.html, "job-alerts-remind"), "30");
  assert.match(edit.html, new RegExp(`name="alerts.channel.${pager.id}" value="1" checked`));
  assert.match(edit.html, new RegExp(`name="alerts.delay.${pager.id}" value="15"`));
  assert.match(edit.html, new RegExp(`name="alerts.onResolve.${pager.id}" value="1"(?! checked)`));
});

Deno.test("empty alert fields take the documented defaults, on a new job and when emptied on an edit", async () => {
  const { s, client, ops } = await signedIn();
  await using _ = s;
  expectRedirect(await client.post("/admin/jobs/new", JOB), /^\/admin\/jobs\//);
  const frequent = await onlyJob(client);
  assert.equal(frequent.alerts.failureThreshold, 3);
  assert.equal(frequent.alerts.successThreshold, 1);
  assert.deepEqual(frequent.alerts.channels, []);

  await client.get(`/admin/jobs/${frequent.id}/edit`);
  expectRedirect(
    await client.post(`/admin/jobs/${frequent.id}/edit`, {
      ...JOB,
      "alerts.failureThreshold": "5",
      [`alerts.channel.${ops.id}`]: "1",
      [`alerts.onResolve.${ops.id}`]: "1",
    }),
    `/admin/jobs/${frequent.id}`,
  );
  assert.equal((await onlyJob(client)).alerts.failureThreshold, 5);

  // Emptied on a job now run hourly: the default for that schedule, and the channel dropped.
  await client.get(`/admin/jobs/${frequent.id}/edit`);
  expectRedirect(
    await client.post(`/admin/jobs/${frequent.id}/edit`, {
      ...JOB,
      schedule: "0 * * * *",
      "alerts.failureThreshold": "",
      "alerts.degradedLatencyMs": "",
    }),
    `/admin/jobs/${frequent.id}`,
  );
  const hourly = await onlyJob(client);
  assert.equal(hourly.alerts.failureThreshold, 1);
  assert.equal(hourly.alerts.degradedLatencyMs, null);
  assert.deepEqual(hourly.alerts.channels, []);
});

Deno.test("a refused alert setting is shown beside its field with everything typed kept", async () => {
  const { s, client, ops } = await signedIn();
  await using _ = s;
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ "alerts.failureThreshold": "three" }, "job-alerts-failure-threshold", /whole number/],
    [{ "alerts.failureThreshold": "0" }, "job-alerts-failure-threshold", /failureThreshold/],
    [
      { "alerts.quorum": "2" },
      "job-alerts-quorum",
      /^alerts\.quorum is 2: the job is checked from 1 location$/,
    ],
    [{ "alerts.remindEveryMinutes": "-4" }, "job-alerts-remind", /remindEveryMinutes/],
    [{ [`alerts.delay.${ops.id}`]: "soon" }, "job-alerts-channels", /delayMinutes/],
  ];
  for (const [fields, id, message] of cases) {
    const page = await client.post("/admin/jobs/new", {
      ...JOB,
      "alerts.degradedLatencyMs": "750",
      [`alerts.channel.${ops.id}`]: "1",
      ...fields,
    });
    assert.equal(page.status, 400, JSON.stringify(fields));
    assert.match(errorText(page.html, id) ?? "", message, JSON.stringify(fields));
    assert.equal(inputValue(page.html, "job-alerts-degraded"), "750");
    assert.match(page.html, new RegExp(`name="alerts.channel.${ops.id}" value="1" checked`));
    assert.equal(inputValue(page.html, "job-name"), "Billing API");
  }
  assert.deepEqual(await client.api<JobView[]>("GET", "/api/jobs"), []);
});

Deno.test("another owner's channel is neither offered nor accepted", async () => {
  const { s, client: admin, ops } = await signedIn();
  await using _ = s;
  await admin.get("/admin/users");
  await admin.post("/admin/users", { id: "acme", password: "acme-long-password" });
  const acme = s.client();
  await acme.signIn("acme", "acme-long-password");
  const form = await acme.get("/admin/jobs/new");
  assert.doesNotMatch(form.html, /Ops on Slack/);
  assert.match(form.html, /No channels yet: add one on the Notification channels page\./);
  const page = await acme.post("/admin/jobs/new", {
    ...JOB,
    [`alerts.channel.${ops.id}`]: "1",
  });
  assert.equal(page.status, 400);
  assert.match(
    errorText(page.html, "job-alerts-channels") ?? "",
    new RegExp(`unknown channel &quot;${ops.id}&quot;`),
  );
});

Deno.test("the Alerts part speaks Japanese", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const form = await client.get("/admin/jobs/new", { "accept-language": "ja" });
  assert.match(form.html, /<legend>アラート<\/legend>/);
  assert.match(form.html, /通知するチャンネル/);
  assert.doesNotMatch(form.html, /Empty: 3 for a job/);
});
