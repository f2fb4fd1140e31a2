/**
 * The Alerts pages in headless Chromium, run by alerts_browser_test.ts in a child process (see
 * run_scenario.ts). The browser's zone is Asia/Tokyo, so a one-off maintenance window's times
 * show and are typed on a Tokyo clock while the server stores UTC.
 *
 * The channel form shows only the chosen type's fields as the Type changes; a webhook channel
 * made with it shows its secret once; Send test shows what a local receiver said, first a
 * failure, then a signed delivery the Standard Webhooks library verifies; an edit keeps the
 * masked header secret; the maintenance form takes a one-off window on the browser's clock and
 * a repeating one on all jobs; End now; the pages in Japanese. Screenshots at 1280 and 390 px.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import type { MaintenanceView } from "../../lib/alerts/maintenance.ts";
import { wallTimeInZone } from "../../components/wall_time.ts";
import { BrowserHarness, localTarget } from "./harness.ts";
import { finish, SHOTS, step } from "./steps.ts";

const ZONE = "Asia/Tokyo";
const HEADER_SECRET = "Bearer receiver-token-0123456789";

async function scenario(): Promise<void> {
  let receiverStatus = 500;
  const received: { headers: Headers; body: string }[] = [];
  await using receiver = localTarget(async (request) => {
    received.push({ headers: request.headers, body: await request.text() });
    return new Response(
      receiverStatus === 200 ? "thanks, noted" : "receiver is down for a moment",
      { status: receiverStatus },
    );
  });
  await using h = await BrowserHarness.start({ timezoneId: ZONE });
  const { page } = h;
  const shot = async (name: string, options: { narrow?: boolean } = {}) => {
    await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
    if (!options.narrow) return;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: new URL(`${name}_390.png`, SHOTS).pathname, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  };
  const visible = (selector: string) => page.locator(selector).isVisible();

  await step(
    "signing in, the Alerts link leads to the incidents, a tab to the channels",
    async () => {
      await h.signIn();
      await page.getByRole("link", { name: "Alerts" }).click();
      await page.waitForURL(`${h.origin}/admin/incidents`);
      await page.getByRole("link", { name: "Notification channels" }).click();
      await page.waitForURL(`${h.origin}/admin/channels`);
      await page.getByText("No channels yet.").waitFor();
    },
  );

  await step("the channel form shows only the chosen type's fields", async () => {
    await page.getByRole("link", { name: "New channel" }).click();
    await page.waitForURL(`${h.origin}/admin/channels/new`);
    assert.equal(await visible("#channel-config-webhook"), true);
    for (const other of ["slack", "discord", "telegram", "pagerduty", "ntfy", "email"]) {
      assert.equal(await visible(`#channel-config-${other}`), false, other);
    }
    await page.getByLabel("Type").selectOption("slack");
    assert.equal(await visible("#channel-config-slack"), true);
    assert.equal(await visible("#channel-config-webhook"), false);
    await page.getByLabel("Slack webhook URL").fill("https://hooks.slack.com/services/T/B/x");
    await page.getByLabel("Type").selectOption("email");
    assert.equal(await visible("#channel-config-slack"), false);
    await page.getByLabel("SMTP host").waitFor();
    await page.getByLabel("Security").selectOption("starttls");
    await shot("new_channel", { narrow: true });
    await page.getByLabel("Type").selectOption("webhook");
    assert.equal(await visible("#channel-config-email"), false);
    assert.equal(await visible("#channel-config-webhook"), true);
  });

  let channelUrl = "";
  let secret = "";
  await step("a webhook channel made with the form shows its secret once", async () => {
    await page.getByLabel("Name", { exact: true }).fill("Ops receiver");
    await page.getByLabel("Receiver URL").fill(`http://127.0.0.1:${receiver.addr.port}/alerts`);
    await page.getByLabel("Extra headers").fill(`Authorization: ${HEADER_SECRET}`);
    await page.getByRole("button", { name: "Create channel" }).click();
    secret = await page.getByTestId("revealed-secret").textContent() ?? "";
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{20,}$/);
    const [channel] = await h.api<{ id: string; type: string }[]>("GET", "/api/channels");
    assert.equal(channel.type, "webhook");
    channelUrl = `${h.origin}/admin/channels/${channel.id}`;
    await page.goto(channelUrl);
    assert.equal(await page.getByTestId("revealed-secret").count(), 0);
    assert.ok(!(await page.content()).includes(secret));
    assert.ok(!(await page.content()).includes(HEADER_SECRET));
  });

  await step("Send test shows what the receiver said, then a signed delivery", async () => {
    await page.getByRole("button", { name: "Send test" }).click();
    assert.equal(await page.getByTestId("test-outcome").textContent(), "Not delivered");
    assert.equal(await page.getByTestId("test-status").textContent(), "Status 500");
    assert.equal(
      await page.getByTestId("test-response").textContent(),
      "receiver is down for a moment",
    );
    receiverStatus = 200;
    await page.getByRole("button", { name: "Send test" }).click();
    await page.getByTestId("test-outcome").getByText("Delivered").waitFor();
    assert.equal(await page.getByTestId("test-response").textContent(), "thanks, noted");
    const last = received.at(-1)!;
    assert.equal(last.headers.get("authorization"), HEADER_SECRET);
    // Signed with the secret shown once, as Standard Webhooks receivers check it.
    const verified = new Webhook(secret).verify(last.body, Object.fromEntries(last.headers));
    assert.match(JSON.stringify(verified), /Sample job/);
    await shot("channel");
  });

  await step("an edit keeps the masked header secret", async () => {
    await page.getByRole("link", { name: "Edit" }).click();
    const headers = await page.getByLabel("Extra headers").inputValue();
    assert.equal(headers, "Authorization: Bear…");
    await page.getByLabel("Name", { exact: true }).fill("Ops receiver (primary)");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(channelUrl);
    await page.getByRole("heading", { name: "Ops receiver (primary)" }).waitFor();
    await page.getByRole("button", { name: "Send test" }).click();
    await page.getByTestId("test-outcome").getByText("Delivered").waitFor();
    assert.equal(received.at(-1)!.headers.get("authorization"), HEADER_SECRET);
  });

  await step("the channel list says which channels work", async () => {
    await h.api("POST", "/api/channels", {
      name: "On-call phones",
      type: "ntfy",
      config: { serverUrl: "https://ntfy.sh", topic: "hibiki-oncall" },
    });
    const slack = await h.api<{ id: string }>("POST", "/api/channels", {
      name: "#ops on Slack",
      type: "slack",
      config: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX" },
    });
    await h.api("PATCH", `/api/channels/${slack.id}`, { enabled: false });
    await page.goto(`${h.origin}/admin/channels`);
    assert.equal(await page.locator("table.channels tbody tr").count(), 3);
    await page.getByTestId("disabled-reason").getByText("Disabled by the owner").waitFor();
    await shot("channels", { narrow: true });
  });

  const job = await h.createJob({
    name: "Billing API",
    url: `http://127.0.0.1:${receiver.addr.port}/health`,
    schedule: "0 9 * * *",
  });
  await h.createJob({
    name: "Search index warm-up",
    url: `http://127.0.0.1:${receiver.addr.port}/warm`,
    schedule: "0 */6 * * *",
  });

  const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  await step("a one-off window is typed on the browser's clock and stored in UTC", async () => {
    await page.getByRole("link", { name: "Maintenance" }).click();
    await page.waitForURL(`${h.origin}/admin/maintenance`);
    await page.getByRole("link", { name: "New window" }).click();
    // The island put the browser's zone in and moved the suggested times with it.
    const zone = page.getByLabel("Time zone of start and end");
    await page.waitForFunction(() =>
      (document.querySelector("#mw-zone") as HTMLInputElement | null)?.value === "Asia/Tokyo"
    );
    assert.equal(await zone.inputValue(), ZONE);
    const hour = 3_600_000;
    const suggested = Math.ceil(Date.now() / hour) * hour;
    assert.equal(
      await page.getByLabel("Start", { exact: true }).inputValue(),
      wallTimeInZone(suggested, ZONE),
    );
    assert.equal(await visible("#mw-job-list"), true);
    assert.equal(await visible(".mw-recurring"), false);
    await page.getByLabel("Name", { exact: true }).fill("Database upgrade");
    await page.getByLabel("Billing API").check();
    await page.getByLabel("Start", { exact: true }).fill(`${day}T10:00`);
    await page.getByLabel("End", { exact: true }).fill(`${day}T12:30`);
    await page.getByTestId("span-utc").getByText(`${day} 01:00 → ${day} 03:30`).waitFor();
    await shot("new_maintenance", { narrow: true });
    await page.getByRole("button", { name: "Create window" }).click();
    await page.waitForURL(`${h.origin}/admin/maintenance`);
    const [window] = await h.api<MaintenanceView[]>("GET", "/api/maintenance");
    assert.equal(window.start, `${day}T01:00:00.000Z`);
    assert.equal(window.end, `${day}T03:30:00.000Z`);
    assert.deepEqual(window.jobIds, [job.id]);
    const row = page.locator("tr", { hasText: "Database upgrade" });
    assert.equal(await row.getByTestId("window-status").textContent(), "Upcoming");
  });

  await step("a repeating window on all jobs: the form switches parts as chosen", async () => {
    await page.getByRole("link", { name: "New window" }).click();
    await page.getByLabel("Repeating, on a schedule").check();
    assert.equal(await visible(".mw-once"), false);
    assert.equal(await visible(".mw-recurring"), true);
    await page.getByLabel("All jobs, also ones added later").check();
    assert.equal(await visible("#mw-job-list"), false);
    await page.getByLabel("Name", { exact: true }).fill("Nightly backup");
    await page.getByLabel("Schedule", { exact: true }).fill("30 2 * * *");
    await page.getByLabel("Timezone", { exact: true }).fill(ZONE);
    await page.locator(".next-times li").first().waitFor();
    assert.match(
      await page.locator(".next-times li").first().textContent() ?? "",
      /02:30:00 \+09:00$/,
    );
    await page.getByLabel("Duration (minutes)").fill("45");
    await page.getByRole("button", { name: "Create window" }).click();
    await page.waitForURL(`${h.origin}/admin/maintenance`);
    const row = page.locator("tr", { hasText: "Nightly backup" });
    await row.getByText("All jobs").waitFor();
    assert.match(await row.getByTestId("window-next").textContent() ?? "", /02:30 \+09:00$/);
    await shot("maintenance", { narrow: true });
  });

  await step("End now ends a window", async () => {
    const row = page.locator("tr", { hasText: "Nightly backup" });
    await row.getByRole("button", { name: "End now" }).click();
    await page.waitForURL(`${h.origin}/admin/maintenance`);
    assert.equal(await row.getByTestId("window-status").textContent(), "Ended");
    assert.equal(await row.getByRole("button", { name: "End now" }).count(), 0);
  });

  await step("the Alerts pages in Japanese", async () => {
    await page.getByRole("link", { name: "日本語" }).click();
    await page.getByRole("heading", { name: "メンテナンスウィンドウ" }).waitFor();
    await page.getByRole("link", { name: "通知チャンネル" }).click();
    await page.getByRole("heading", { name: "通知チャンネル" }).waitFor();
    await shot("channels_ja");
    await page.getByRole("link", { name: "English" }).click();
    await page.getByRole("heading", { name: "Notification channels" }).waitFor();
  });

  await step("no script ran from user input and the CSP blocked nothing", () => {
    assert.deepEqual(h.problems, []);
    return Promise.resolve();
  });
}

await finish(scenario);
