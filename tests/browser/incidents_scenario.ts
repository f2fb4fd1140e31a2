/**
 * Incidents and a job's alert settings in headless Chromium, run by incidents_browser_test.ts
 * in a child process (see run_scenario.ts). A job made with the form's Alerts part (one failure
 * is down, a webhook channel told) checks a local target every second; the target fails, the
 * incident opens on the Incidents page with its duration counting on, Acknowledge records the
 * operator, the incident's page tells its timeline, the target recovers and the job page shows
 * the state, uptime and the incident. Screenshots at 1280 and 390 px.
 */
import assert from "node:assert/strict";
import type { Incident } from "../../lib/alerts/types.ts";
import type { JobView } from "../../lib/store/types.ts";
import { BrowserHarness, localTarget } from "./harness.ts";
import { finish, SHOTS, step } from "./steps.ts";

async function scenario(): Promise<void> {
  let healthy = true;
  await using target = localTarget(() =>
    healthy ? new Response("ok") : new Response("database unreachable", { status: 503 })
  );
  await using receiver = localTarget(() => new Response("noted"));
  await using h = await BrowserHarness.start();
  const { page } = h;
  const shot = async (name: string) => {
    await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: new URL(`${name}_390.png`, SHOTS).pathname, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  };
  /** Reloads `url` until `ready` holds, for what the lanes do on the real clock. */
  const until = async (url: string, ready: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      await page.goto(url);
      if (await ready()) return;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await page.waitForTimeout(500);
    }
  };

  await step("signing in, the Alerts link opens the incidents: nothing is down", async () => {
    await h.signIn();
    await page.getByRole("link", { name: "Alerts" }).click();
    await page.waitForURL(`${h.origin}/admin/incidents`);
    await page.getByRole("heading", { name: "Incidents" }).waitFor();
    await page.getByText("Nothing is down.").waitFor();
  });

  const channel = await h.api<{ id: string }>("POST", "/api/channels", {
    name: "Ops receiver",
    type: "webhook",
    config: { url: `http://127.0.0.1:${receiver.addr.port}/alerts` },
  });

  let job: JobView | null = null;
  await step("the job form's Alerts part: defaults as placeholders, a channel chosen", async () => {
    await page.getByRole("link", { name: "New job" }).click();
    await page.waitForURL(`${h.origin}/admin/jobs/new`);
    const failures = page.getByLabel("Failing checks before down");
    assert.equal(await failures.getAttribute("placeholder"), "default");
    assert.equal(await page.getByLabel("Quorum").getAttribute("placeholder"), "a majority");
    await page.getByLabel("Name", { exact: true }).fill("Checkout API");
    await page.getByLabel("URL").fill(`http://127.0.0.1:${target.addr.port}/health`);
    await page.getByLabel("Schedule", { exact: true }).fill("@every 1s");
    await failures.fill("0");
    await page.getByRole("checkbox", { name: "Ops receiver Webhook", exact: true }).check();
    await page.getByLabel("Ops receiver: tell after (minutes)").fill("0");
    await page.getByLabel("Remind every (minutes)").fill("30");
    await page.getByRole("button", { name: "Create job" }).click();
    // Refused beside the field, everything typed kept.
    await page.locator("#job-alerts-failure-threshold-error").getByText(/failureThreshold/)
      .waitFor();
    assert.equal(await page.getByLabel("Remind every (minutes)").inputValue(), "30");
    assert.equal(
      await page.getByRole("checkbox", { name: "Ops receiver Webhook", exact: true }).isChecked(),
      true,
    );
    await page.getByLabel("Failing checks before down").fill("1");
    await page.getByRole("button", { name: "Create job" }).click();
    await page.waitForURL((url) => /^\/admin\/jobs\/(?!new$)[^/]+$/.test(url.pathname), {
      timeout: 5000,
    }).catch(async (error) => {
      await page.screenshot({ path: "/tmp/alertpages_fail.png", fullPage: true });
      throw new Error(`${error}: ${page.url()} ${await page.locator(".error").allTextContents()}`);
    });
    [job] = await h.api<JobView[]>("GET", "/api/jobs");
    assert.equal(job.alerts.failureThreshold, 1);
    assert.deepEqual(job.alerts.channels, [{ channelId: channel.id, onResolve: true }]);
    assert.equal(job.alerts.remindEveryMinutes, 30);
    await page.goto(`${h.origin}/admin/jobs/${job.id}/edit`);
    assert.equal(await page.getByLabel("Failing checks before down").inputValue(), "1");
    await shot("job_form_alerts");
  });

  let incident: Incident | null = null;
  await step(
    "a failing target opens an incident, listed first with its duration counting",
    async () => {
      healthy = false;
      await until(
        `${h.origin}/admin/incidents`,
        async () => (await page.locator("[data-testid=open-incidents] tbody tr").count()) === 1,
        "the incident",
      );
      [incident] = await h.api<Incident[]>("GET", "/api/incidents?state=open");
      const row = page.locator(`tr[data-incident="${incident.id}"]`);
      await row.getByRole("link", { name: "Checkout API" }).waitFor();
      await row.getByText("Expected status 2xx, got 503").waitFor();
      const duration = row.getByTestId("live-duration");
      const first = await duration.textContent();
      await page.waitForFunction(
        ([id, before]) =>
          document.querySelector(`tr[data-incident="${id}"] [data-testid=live-duration]`)
            ?.textContent !== before,
        [incident.id, first],
        { timeout: 5000 },
      );
      await shot("incidents");
    },
  );

  await step("Acknowledge records the signed-in operator", async () => {
    const row = page.locator(`tr[data-incident="${incident!.id}"]`);
    await row.getByRole("button", { name: "Acknowledge" }).click();
    await page.waitForURL(`${h.origin}/admin/incidents`);
    await row.getByTestId("acknowledged").getByText("default").waitFor();
    assert.equal(await row.getByRole("button", { name: "Acknowledge" }).count(), 0);
  });

  await step(
    "the incident's page tells its timeline and links the run that caused it",
    async () => {
      const row = page.locator(`tr[data-incident="${incident!.id}"]`);
      await row.getByRole("link", { name: "Details" }).click();
      await page.waitForURL(`${h.origin}/admin/incidents/${incident!.id}`);
      const events = await page.locator("[data-testid=timeline] li").evaluateAll((items) =>
        items.map((li) => li.getAttribute("data-event"))
      );
      assert.equal(events[0], "opened");
      assert.ok(events.includes("acknowledged"), events.join());
      await page.getByTestId("incident-notifications").getByText("Ops receiver").first().waitFor();
      await page.getByTestId("incident-runs").getByRole("link").first().click();
      await page.waitForURL(/\/runs\//);
      await page.goBack();
      await shot("incident");
    },
  );

  await step(
    "the target recovers: the job page shows it up, its uptime and the incident",
    async () => {
      healthy = true;
      await until(
        `${h.origin}/admin/jobs/${job!.id}`,
        async () => (await page.locator("h1 .badge").textContent()) === "Up",
        "the job to be up",
      );
      const listed = page.getByTestId("job-incidents").locator("li");
      assert.equal(await listed.count(), 1);
      assert.match(await listed.first().textContent() ?? "", /Down for \d+ s/);
      assert.match(await page.getByTestId("uptime").textContent() ?? "", /Uptime, 24 hours\d/);
      await page.getByTestId("job-alerts").scrollIntoViewIfNeeded();
      await shot("job_alerts");
      await page.getByRole("link", { name: "All incidents of this job" }).click();
      await page.waitForURL(`${h.origin}/admin/incidents?job=${job!.id}`);
      await page.getByTestId("resolved-incidents").getByText("Checkout API").waitFor();
    },
  );

  await step("the incidents page in Japanese", async () => {
    await page.getByRole("link", { name: "日本語" }).click();
    await page.getByRole("heading", { name: "インシデント" }).waitFor();
    await page.getByText("ダウンしているものはありません。").waitFor();
    await page.screenshot({ path: new URL("incidents_ja.png", SHOTS).pathname, fullPage: true });
    await page.getByRole("link", { name: "English" }).click();
    await page.getByRole("heading", { name: "Incidents" }).waitFor();
  });

  await step("no script ran from user input and the CSP blocked nothing", () => {
    assert.deepEqual(h.problems, []);
    return Promise.resolve();
  });
}

await finish(scenario);
