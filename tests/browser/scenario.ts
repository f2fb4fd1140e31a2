/**
 * The browser scenario, run by admin_browser_test.ts in a child process (playwright-core reads
 * /proc and the home folder when it loads, which only a fully privileged Deno may do). Prints
 * one JSON line per step: `{"step": name, "ok": true, "ms": n}` or with `"error"`.
 *
 * Sign in, create a job through the form and watch its runs arrive without reloading, open a
 * run, add a webhook and see its secret once, redeliver, a bad cron shown beside Schedule, a
 * job name that is HTML shown as text, add a Google key on the credentials page and create a
 * Cloud Run job with the form that runs against a local fake of Google, sign out. Screenshots
 * (the dashboard and a job page also at 390 px) are taken on every run; they replace
 * docs/screenshots/ only with HIBIKI_UPDATE_SCREENSHOTS=1 (steps.ts), so running the tests
 * leaves the tree as it was.
 */
import assert from "node:assert/strict";
import { createServiceAccount, FakeGoogle } from "../fakes/google.ts";
import { ADMIN_PASSWORD, BrowserHarness, localTarget } from "./harness.ts";
import { finish, SHOTS, step } from "./steps.ts";

const XSS_NAME = "<img src=x onerror=alert(1)>";
const t = { step };

async function scenario(): Promise<void> {
  let receiverStatus = 500;
  const deliveries: string[] = [];
  await using target = localTarget(() =>
    new Response("hello from the target", { headers: { "x-target": "yes" } })
  );
  await using receiver = localTarget(async (request) => {
    deliveries.push(await request.text());
    return new Response("noted", { status: receiverStatus });
  });
  await using google = FakeGoogle.start();
  google.addJob({
    project: "hibiki-demo",
    region: "asia-northeast1",
    job: "resume-job",
    taskCount: 2,
    pollsToComplete: 1,
  });
  const account = await createServiceAccount(google, { projectId: "hibiki-demo" });
  await using h = await BrowserHarness.start({
    env: { HIBIKI_GCP_RUN_URL: google.origin },
    // The live tables refresh every 0.5 s instead of 3-5 s: the steps that wait for a refresh
    // see the same thing sooner.
    system: { cloudRunPollDelays: [200, 400], adminRefreshMs: 500 },
  });
  const { page } = h;
  /** A full-page screenshot; `narrow` adds one at a phone's 390 px (`<name>_390.png`). */
  const shot = async (name: string, options: { narrow?: boolean } = {}) => {
    await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
    if (!options.narrow) return;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: new URL(`${name}_390.png`, SHOTS).pathname, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  };

  await t.step("signing in", async () => {
    await page.goto(`${h.origin}/admin`);
    assert.match(page.url(), /\/admin\/login\?next=/);
    await shot("login");
    await page.getByLabel("User").fill("default");
    await page.getByLabel("Password").fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The user or password is wrong").waitFor();
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${h.origin}/admin`);
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
  });

  await t.step("a bad cron shows an error beside Schedule", async () => {
    await page.goto(`${h.origin}/admin/jobs/new`);
    await page.getByLabel("Name").fill("Bad cron");
    await page.getByLabel("URL").fill(`http://127.0.0.1:${target.addr.port}/`);
    // Live, from the island, while typing...
    await page.getByLabel("Schedule").fill("61 * * * *");
    const live = page.locator("#job-schedule-error");
    await live.waitFor();
    assert.match(await live.textContent() ?? "", /minute/i);
    // ...and from the server after submitting (the API's message, beside the field).
    await page.getByRole("button", { name: "Create job" }).click();
    await page.waitForURL(`${h.origin}/admin/jobs/new`);
    const fromServer = page.locator(".field-error #job-schedule-error");
    await fromServer.waitFor();
    assert.match(await fromServer.textContent() ?? "", /minute/i);
  });

  let jobUrl = "";
  await t.step("creating a job through the form, runs appear without reloading", async () => {
    await page.goto(`${h.origin}/admin/jobs/new`);
    await page.getByLabel("Name").fill(XSS_NAME);
    await page.getByLabel("URL").fill(`http://127.0.0.1:${target.addr.port}/health`);
    await page.getByLabel("Method").selectOption("GET");
    await page.getByLabel("Schedule").fill("*/2 * * * * *");
    await page.getByLabel("Timezone").fill("Asia/Tokyo");
    await page.locator(".next-times li").first().waitFor();
    assert.equal(await page.locator(".next-times li").count(), 5);
    assert.match(await page.locator(".next-times li").first().textContent() ?? "", /\+09:00$/);
    await shot("new_job");
    await page.getByRole("button", { name: "Create job" }).click();
    await page.waitForURL(/\/admin\/jobs\/[0-9a-f-]{36}$/);
    jobUrl = page.url();
    // The name is text, not markup.
    assert.equal(
      await page.locator("h1").first().evaluate((el) => el.childNodes[0].textContent),
      `${XSS_NAME} `,
    );
    assert.equal(await page.locator("main img").count(), 0);
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => navigations.push(frame.url()));
    await page.locator("table.runs tbody tr").first().waitFor({ timeout: 15_000 });
    assert.deepEqual(navigations, []);
    await page.locator(".chart canvas").first().waitFor();
  });

  await t.step("opening a run shows its response", async () => {
    await page.locator("table.runs tbody tr a").first().click();
    await page.waitForURL(/\/runs\//);
    assert.equal(await page.getByTestId("response-body").textContent(), "hello from the target");
    await page.getByText("x-target").waitFor();
    await shot("run");
    await page.goBack();
  });

  await t.step("adding a webhook shows the secret once", async () => {
    await page.goto(jobUrl);
    await page.getByLabel("Endpoint").fill(`http://127.0.0.1:${receiver.addr.port}/hook`);
    await page.getByRole("button", { name: "Add webhook" }).click();
    const secret = await page.getByTestId("revealed-secret").textContent();
    assert.match(secret ?? "", /^whsec_[A-Za-z0-9+/=_-]{20,}$/);
    await page.goto(jobUrl);
    assert.equal(await page.getByTestId("revealed-secret").count(), 0);
    const masked = await page.getByTestId("masked-secret").textContent();
    assert.ok(masked?.endsWith("…") && secret!.startsWith(masked.slice(0, -1)));
    assert.ok(!(await page.content()).includes(secret!));
  });

  await t.step("a failed delivery is redelivered", async () => {
    const failed = page.locator(".deliveries li", { has: page.locator(".badge-pending") });
    for (let i = 0; i < 40 && await failed.count() === 0; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    const first = failed.first();
    const id = await first.getAttribute("data-delivery");
    assert.ok(id);
    receiverStatus = 200;
    await first.getByRole("button", { name: "Redeliver" }).click();
    const item = page.locator(`.deliveries li[data-delivery="${id}"]`);
    for (let i = 0; i < 40 && await item.locator(".badge-succeeded").count() === 0; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    await item.locator(".badge-succeeded").waitFor({ timeout: 1000 });
    assert.ok(deliveries.length >= 2);
    await page.locator(".chart canvas").first().waitFor();
    await shot("job", { narrow: true });
  });

  await t.step("the dashboard lists the job and refreshes itself", async () => {
    // A few more jobs, so the dashboard screenshot looks like a dashboard.
    const base = `http://127.0.0.1:${target.addr.port}`;
    for (
      const [name, url, schedule] of [
        ["API health", `${base}/api/health`, "*/3 * * * * *"],
        ["Billing export (daily)", `${base}/billing/export`, "0 3 * * *"],
        ["Search index warm-up", `${base}/search/warm`, "@every 5s"],
        ["Legacy status page", "http://127.0.0.1:1/status", "*/4 * * * * *"],
      ]
    ) {
      await h.createJob({ name, url, schedule, timezone: "Asia/Tokyo" });
    }
    await page.goto(`${h.origin}/admin`);
    await page.locator("table.jobs .badge-down").first().waitFor({ timeout: 10_000 });
    await page.goto(`${h.origin}/admin?q=img`);
    const row = page.locator("table.jobs tbody tr").first();
    assert.equal(await row.locator(".name a").textContent(), XSS_NAME);
    await row.locator("td.state .badge-up").waitFor({ timeout: 10_000 });
    // The island refreshes the rows: the run count grows without a reload.
    const runs = row.locator("td.num").last();
    const before = Number(await runs.textContent());
    await page.waitForFunction(
      ([selector, n]) =>
        Number(document.querySelector(selector as string)?.textContent) > (n as number),
      ["table.jobs tbody tr td.num:last-child", before],
      { timeout: 12_000 },
    );
    await page.getByLabel("Search").fill("img onerror");
    await page.getByRole("button", { name: "Filter" }).click();
    assert.equal(await page.locator("table.jobs tbody tr").count(), 1);
    await page.getByLabel("Search").fill("nothing-like-it");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No jobs here yet.").waitFor();
    await page.goto(`${h.origin}/admin`);
    await page.locator("table.jobs .badge-up").nth(2).waitFor({ timeout: 10_000 });
    await shot("dashboard", { narrow: true });
  });

  await t.step("API keys: created with scopes, shown once, revoked", async () => {
    await page.goto(`${h.origin}/admin/keys`);
    await page.getByLabel("Name").fill("ci");
    await page.getByLabel("read:jobs").check();
    await page.getByRole("button", { name: "Create key" }).click();
    const key = await page.getByTestId("new-key").textContent();
    assert.match(key ?? "", /^hk_/);
    const answer = await fetch(`${h.origin}/api/jobs`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(answer.status, 200);
    await answer.body?.cancel();
    await shot("keys");
    await page.getByRole("button", { name: "Revoke" }).click();
    await page.getByText("No keys yet.").waitFor();
  });

  await t.step("credentials: a pasted key is listed by its email and never shown", async () => {
    await page.goto(`${h.origin}/admin/credentials`);
    await page.getByLabel("Key JSON").fill(account.json);
    await page.getByRole("button", { name: "Add key" }).click();
    await page.waitForURL(/\/admin\/credentials\?added=cred_[0-9a-f]{32}$/);
    assert.deepEqual(await page.getByTestId("client-email").allTextContents(), [
      account.clientEmail,
    ]);
    const html = await page.content();
    assert.ok(!html.includes("PRIVATE KEY"), "the key is never shown");
    assert.equal(await page.getByLabel("Key JSON").inputValue(), "");
    await shot("credentials");
  });

  await t.step("a Cloud Run job made with the form runs on the (fake) Google", async () => {
    await page.goto(`${h.origin}/admin/jobs/new`);
    await page.getByLabel("Name").fill("Resume sync");
    await page.getByLabel("Target").selectOption("cloud_run_job");
    await page.getByLabel("Project").fill("hibiki-demo");
    await page.getByLabel("Region").fill("asia-northeast1");
    await page.getByLabel("Job", { exact: true }).fill("resume-job");
    await page.getByLabel("Credential").selectOption({ index: 1 });
    await page.getByLabel("Environment overrides").fill("RESUME_USERNAME=alice");
    await page.getByLabel("Task timeout").fill("3600s");
    await page.getByLabel("Schedule").fill("0 9 1 1 *");
    await page.getByRole("button", { name: "Create job" }).click();
    await page.waitForURL(/\/admin\/jobs\/[0-9a-f-]{36}$/);
    assert.equal(
      await page.getByTestId("cloud-run-target").textContent(),
      "projects/hibiki-demo/locations/asia-northeast1/jobs/resume-job",
    );
    await page.getByRole("button", { name: "Run now" }).click();
    // The island shows the execution once the run ends, without a reload.
    const cell = page.locator("table.runs td.execution").first();
    await cell.locator(".badge-succeeded").waitFor({ timeout: 20_000 });
    assert.match(await cell.textContent() ?? "", /resume-job-\w+ succeeded 2 ✓ 0 ✗/);
    const logs = cell.getByRole("link", { name: "Logs" });
    assert.equal(await logs.getAttribute("rel"), "noopener noreferrer");
    assert.match(await logs.getAttribute("href") ?? "", /^https:\/\/console\.cloud\.google\.com\//);
    const env = google.executions.at(-1)?.env ?? [];
    assert.ok(env.some((e) => e.name === "RESUME_USERNAME" && e.value === "alice"));
    await shot("cloud_run_job");
  });

  await t.step(
    "a heartbeat made with the form shows its ping URL, and a ping shows up",
    async () => {
      await page.goto(`${h.origin}/admin/jobs/new`);
      // The form shows the chosen target's fields only.
      assert.ok(await page.getByLabel("URL").isVisible());
      assert.ok(!(await page.getByLabel("Grace (seconds)").isVisible()));
      await page.getByLabel("Target").selectOption("heartbeat");
      assert.ok(!(await page.getByLabel("URL").isVisible()));
      assert.ok(!(await page.getByLabel("Probe workers").isVisible()));
      await page.getByLabel("Name").fill("Nightly backup");
      await page.getByLabel("Schedule").fill("30 2 * * *");
      await page.getByLabel("Grace (seconds)").fill("600");
      await page.getByRole("button", { name: "Create job" }).click();
      await page.waitForURL(/\/admin\/jobs\/[0-9a-f-]{36}$/);
      const url = await page.getByTestId("ping-url").textContent() ?? "";
      assert.match(url, new RegExp(`^${h.origin}/ping/[A-Za-z0-9_-]{32}$`));
      assert.match(await page.getByTestId("ping-crontab").textContent() ?? "", /^30 2 \* \* \* /);
      const answer = await fetch(`${url}/0`, { method: "POST", body: "backup done" });
      assert.equal(await answer.text(), "OK");
      await page.locator("table.runs tbody tr").first().waitFor({ timeout: 15_000 });
      await shot("heartbeat_job");
    },
  );

  await t.step("other pages render, in Japanese too", async () => {
    for (
      const [path, name] of [["/admin/workers", "workers"], ["/admin/users", "users"], [
        "/admin/hooks",
        "hooks",
      ]]
    ) {
      await page.goto(`${h.origin}${path}`);
      await shot(name);
    }
    await page.getByRole("link", { name: "日本語" }).click();
    await page.getByRole("link", { name: "English" }).waitFor();
    await page.goto(`${h.origin}/admin`);
    await page.getByRole("heading", { name: "ジョブ" }).waitFor();
    await shot("dashboard_ja");
    await page.getByRole("link", { name: "English" }).click();
  });

  await t.step("signing out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${h.origin}/admin/login`);
    await page.goto(`${h.origin}/admin`);
    assert.match(page.url(), /\/admin\/login/);
  });

  await t.step("no script ran from user input and the CSP blocked nothing", () => {
    assert.deepEqual(h.problems, []);
    return Promise.resolve();
  });
}

await finish(scenario);
