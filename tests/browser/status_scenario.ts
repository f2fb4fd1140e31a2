/**
 * A public status page in headless Chromium, run by status_browser_test.ts in a child process
 * (see run_scenario.ts). Six jobs made 100 days ago, with incidents over the last 90 days (one
 * still open, with an operator's update), seeded into the store beside the running system as
 * another process would; the page is read as the public reads it, without signing in.
 * Screenshots: status.png (1280 px), status_390.png, status_ja.png.
 */
import assert from "node:assert/strict";
import type { Incident, JobAlertState } from "../../lib/alerts/types.ts";
import { createKvStores } from "../../lib/store/kv/mod.ts";
import type { Job } from "../../lib/store/types.ts";
import { BrowserHarness } from "./harness.ts";
import { finish, SHOTS, step } from "./steps.ts";

const DAY = 86_400_000;
const MINUTE = 60_000;

async function scenario(): Promise<void> {
  await using h = await BrowserHarness.start();
  const { page } = h;
  const stores = createKvStores(h.kv);
  const now = Date.now();
  const names = [
    "Web app",
    "Public API",
    "Checkout",
    "Sign-in",
    "Search (Tokyo)",
    "Image CDN with a very long name that has to wrap on a phone",
  ];
  const jobs: Job[] = [];
  for (const [i, name] of names.entries()) {
    const stamp = new Date(now - 100 * DAY).toISOString();
    const job: Job = {
      id: crypto.randomUUID(),
      userId: "default",
      name,
      url: `https://secret-${i}.example.com/health`,
      method: "GET",
      headers: null,
      body: null,
      schedule: "0 0 1 1 *",
      timezone: "UTC",
      enabled: true,
      timeoutMs: 30_000,
      expect: null,
      createdAt: stamp,
      updatedAt: stamp,
    };
    await stores.records.createJob(job, null);
    jobs.push(job);
  }
  // Incidents: a few short ones spread out, a long one on Checkout, Sign-in down now.
  const story: [number, number, number][] = [
    [0, 40, 12],
    [1, 75, 30],
    [1, 12, 4],
    [2, 20, 300],
    [2, 3, 45],
    [4, 60, 90],
    [3, 0.02, 0],
  ];
  for (const [n, [jobIndex, daysAgo, minutes]] of story.entries()) {
    const job = jobs[jobIndex];
    const start = Math.floor(now - daysAgo * DAY);
    const open = minutes === 0;
    const end = start + minutes * MINUTE;
    const id = `inc_${start.toString(16).padStart(12, "0")}${n.toString(16).padStart(16, "0")}`;
    const incident: Incident = {
      id,
      userId: "default",
      jobId: job.id,
      state: open ? "open" : "resolved",
      kind: "down",
      startedAt: new Date(start).toISOString(),
      endedAt: open ? null : new Date(end).toISOString(),
      durationMs: open ? null : end - start,
      cause: "Expected status 2xx, got 503",
      runIds: [],
      locations: ["local"],
      acknowledgedAt: open ? new Date(now).toISOString() : null,
      acknowledgedBy: open ? "default" : null,
      updates: open
        ? [{ at: new Date(now).toISOString(), message: "We are looking into failed sign-ins." }]
        : [],
      notificationIds: [],
    };
    const current = await stores.alerts.getState("default", job.id);
    const next: JobAlertState = {
      userId: "default",
      jobId: job.id,
      state: open ? "down" : "up",
      failures: 0,
      successes: 1,
      incidentId: open ? id : null,
      decidedThrough: now - MINUTE,
      since: open ? start : end,
      streakSince: open ? start : end,
      verdict: open ? "fail" : "pass",
    };
    await stores.alerts.decide({
      current,
      next,
      settle: [],
      incident: { next: incident, current: null },
    });
  }
  for (const job of [jobs[5]]) {
    const current = await stores.alerts.getState("default", job.id);
    await stores.alerts.decide({
      current,
      next: {
        userId: "default",
        jobId: job.id,
        state: "degraded",
        failures: 0,
        successes: 1,
        incidentId: null,
        decidedThrough: now - MINUTE,
        since: now - 10 * MINUTE,
        streakSince: now - 10 * MINUTE,
        verdict: "degraded",
      },
      settle: [],
    });
  }
  await h.api("POST", "/api/status-pages", {
    slug: "acme",
    title: "Acme Cloud status",
    description: "Live status of Acme's services.",
    groups: [
      { name: "Applications", jobIds: jobs.slice(0, 4).map((j) => j.id) },
      { name: "Infrastructure", jobIds: jobs.slice(4).map((j) => j.id) },
    ],
  });
  const url = `${h.origin}/status/acme`;
  const shot = (name: string) =>
    page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });

  await step("the page shows the overall state, groups, and 90 days per job", async () => {
    await page.goto(url);
    await page.getByRole("heading", { name: "Acme Cloud status" }).waitFor();
    assert.equal(
      await page.getByTestId("overall").textContent().then((t) => t?.includes("Partial outage")),
      true,
    );
    assert.equal(await page.locator(".sp-job").count(), 6);
    assert.equal(await page.locator(".sp-job").first().locator(".sp-day").count(), 90);
    assert.equal(await page.locator("script").count(), 0);
    await page.getByText("We are looking into failed sign-ins.").waitFor();
    assert.ok(!(await page.content()).includes("secret-"), "no job URL on the page");
    assert.deepEqual(h.problems, []);
  });

  await step("a day's hover text gives its figure and incidents", async () => {
    const checkout = page.locator(".sp-job", { hasText: "Checkout" });
    const bad = checkout.locator(".sp-day.sp-major").first();
    const title = await bad.getAttribute("title");
    assert.match(
      title ?? "",
      /^\d{4}-\d{2}-\d{2}: \d+\.\d\d% up, 1 incident, \d+ h( \d+ min)? down$/,
    );
    await bad.hover();
  });

  await step("at 1280 px the page is a column of cards", async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await shot("status");
  });

  await step("at 390 px nothing scrolls sideways and names wrap by words", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url);
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth
    );
    assert.equal(overflow, 0);
    const name = page.locator(".sp-job-name", { hasText: "Image CDN" });
    const box = await name.boundingBox();
    assert.ok(box && box.width > 150, `the long name is ${box?.width} px wide`);
    const bar = await page.locator(".sp-bar").first().boundingBox();
    assert.ok(bar && bar.x + bar.width <= 390, "the bar fits");
    await shot("status_390");
  });

  await step("the switch link shows the page in Japanese", async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole("link", { name: "日本語" }).click();
    await page.waitForURL(`${url}?lang=ja`);
    assert.equal(await page.locator("html").getAttribute("lang"), "ja");
    await page.getByText("一部で障害が発生しています").waitFor();
    await shot("status_ja");
    assert.deepEqual(h.problems, []);
  });
}

await finish(scenario);
