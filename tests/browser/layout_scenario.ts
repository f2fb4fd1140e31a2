/**
 * The admin pages as people look at them, in headless Chromium (run by layout_browser_test.ts
 * in a child process, see run_scenario.ts). The browser's zone is Asia/Tokyo.
 *
 * A job page opened before the first run follows it without a reload (state badge, figures,
 * runs); the chart's time axis around a lone run reads as times of day, not years (its
 * labels are read as drawn on the canvas); times say "… ago" with the Tokyo wall clock and
 * UTC on hover, and once a page script has told the zone, pages without scripts use it too;
 * the job form shows only the chosen target's fields; at 390 px no admin page scrolls sideways
 * and no text wraps a letter or two per line; dark mode follows prefers-color-scheme with
 * readable badges; the dashboard's counts, heartbeat bars (hover tells a result's time and
 * outcome) and sparklines fit at 390 and 1280 px. Screenshots of the dashboard and a job page in
 * dark mode (scenario.ts takes them light, at 1280 and 390 px).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BrowserHarness, localTarget } from "./harness.ts";
import { finish, SHOTS, step } from "./steps.ts";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

/** Every sideways scroll and every text squeezed to a letter or two per line on the page. */
function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > innerWidth) {
      const wide = [...document.querySelectorAll<HTMLElement>("main *, header *")]
        .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
        .filter((el) => !el.closest(".scroll-x"))
        .slice(0, 3)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
      problems.push(`scrolls sideways: ${root.scrollWidth} > ${innerWidth} (${wide.join(", ")})`);
    }
    // Each text's characters by the line they sit on: a line of one or two letters in a
    // wrapped text, or a text wrapped into lines of three letters or so, is a squeezed column.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? "";
      const parent = node.parentElement;
      if (text.trim().length < 6 || !parent?.checkVisibility()) continue;
      // Preformatted text (a payload) breaks where its own lines do.
      if (getComputedStyle(parent).whiteSpace.startsWith("pre")) continue;
      const lines = new Map<number, number>();
      for (let i = 0; i < text.length; i++) {
        if (/\s/.test(text[i])) continue;
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const top = Math.round(range.getBoundingClientRect().top);
        lines.set(top, (lines.get(top) ?? 0) + 1);
      }
      const counts = [...lines.values()];
      const letters = counts.reduce((a, b) => a + b, 0);
      if (
        counts.length >= 2 &&
        (Math.min(...counts) <= 2 || (counts.length >= 3 && letters / counts.length < 4))
      ) {
        problems.push(`"${text.trim().slice(0, 30)}" wraps as ${counts.join("/")} letters`);
      }
    }
    return problems;
  });
}

/** WCAG contrast of each badge, button, link and text against what is behind it. */
function contrasts(page: Page): Promise<{ what: string; ratio: number }[]> {
  return page.evaluate(() => {
    const rgb = (color: string) => {
      const [r, g, b, a = 1] = color.match(/[\d.]+/g)!.map(Number);
      return { r, g, b, a };
    };
    const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
      const [R, G, B] = [r, g, b].map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    const behind = (el: Element | null): string => {
      for (; el; el = el.parentElement) {
        const bg = getComputedStyle(el).backgroundColor;
        if (rgb(bg).a > 0.5) return bg;
      }
      return "rgb(255, 255, 255)";
    };
    const selector =
      ".badge, button, .button, main a, main p, main td, main dt, main dd, main th, " +
      "main label, main small, h1, h2";
    return [...document.querySelectorAll(selector)]
      .filter((el) => el.checkVisibility() && el.textContent?.trim())
      .map((el) => {
        const fg = luminance(rgb(getComputedStyle(el).color));
        const bg = luminance(rgb(behind(el)));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        return {
          what: `${el.tagName.toLowerCase()}.${el.className} "${
            el.textContent?.trim().slice(0, 20)
          }"`,
          ratio,
        };
      });
  });
}

async function scenario(): Promise<void> {
  await using target = localTarget(() => new Response("ok"));
  const base = `http://127.0.0.1:${target.addr.port}`;
  await using h = await BrowserHarness.start({
    timezoneId: "Asia/Tokyo",
    system: { adminRefreshMs: 500 },
  });
  const { page } = h;
  // What the chart draws on its canvas (axis labels): recorded before any page script runs.
  await h.context.addInitScript(() => {
    const drawn: string[] = [];
    (globalThis as unknown as { drawnTexts: string[] }).drawnTexts = drawn;
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
      drawn.push(String(text));
      return fillText.call(this, text, ...rest);
    };
  });
  const shot = (name: string) =>
    page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
  await h.signIn();

  const job = await h.createJob({
    name: "Billing API health (Tokyo)",
    url: `${base}/billing/health`,
    schedule: "0 9 1 1 *",
    timezone: "Asia/Tokyo",
    expect: { status: [200, 204], bodyContains: "ok" },
  });
  const jobUrl = `${h.origin}/admin/jobs/${job.id}`;
  const figure = (label: string) =>
    page.locator(".figures div", { has: page.locator("dt", { hasText: label }) }).locator("dd");

  await step("a job page opened before the first run follows it without a reload", async () => {
    await page.goto(jobUrl);
    const badge = page.locator("h1 .badge");
    assert.equal(await badge.textContent(), "No result yet");
    assert.equal(await figure("Runs").textContent(), "0");
    assert.equal(await figure("Last run").textContent(), "—");
    assert.match(await figure("Next run").textContent() ?? "", /^in \d+ (days|months)$/);
    assert.equal(
      await page.locator(".details dd").filter({ hasText: "Status" }).textContent(),
      "Status 200 or 204 · body contains “ok”",
    );
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => navigations.push(frame.url()));
    await h.api("POST", `/api/jobs/${job.id}/run`);
    await badge.getByText("Up").waitFor({ timeout: 10_000 });
    await figure("Runs").getByText("1").waitFor();
    await figure("Success (24 h)").getByText("100 %").waitFor({ timeout: 10_000 });
    assert.match(await figure("Last run").textContent() ?? "", /^(now|\d+ seconds ago)$/);
    assert.equal(await page.locator("table.runs tbody tr").count(), 1);
    assert.deepEqual(navigations, []);
  });

  await step("the chart's time axis around a lone run shows times of day, not years", async () => {
    await page.locator(".chart canvas").first().waitFor();
    // The island has drawn the run: the labels it drew last are this axis.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { drawnTexts: string[] }).drawnTexts.some((t) => /:\d\d/.test(t)),
      undefined,
      { timeout: 5_000 },
    ).catch(() => {});
    const drawn = await page.evaluate(() =>
      (globalThis as unknown as { drawnTexts: string[] }).drawnTexts
    );
    assert.deepEqual(drawn.filter((t) => /^20\d\d$/.test(t)), [], `labels: ${drawn.join(" | ")}`);
    assert.ok(drawn.some((t) => /^\d{1,2}:\d\d/.test(t)), `labels: ${drawn.join(" | ")}`);
  });

  await step("times read as how long ago, the Tokyo clock and UTC on hover", async () => {
    const time = page.locator("table.runs tbody tr time").first();
    assert.match(await time.textContent() ?? "", /^(now|\d+ seconds ago)$/);
    const datetime = await time.getAttribute("datetime");
    const title = await time.getAttribute("title") ?? "";
    const [local, utc] = title.split("\n");
    assert.match(local, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+09:00 \(Asia\/Tokyo\)$/);
    assert.equal(utc, `${datetime!.slice(0, 19).replace("T", " ")} UTC`);
    // The island told the server the zone: a page without scripts shows it too.
    await page.goto(`${h.origin}/admin/users`);
    assert.equal(await page.locator("script").count(), 0);
    assert.match(
      await page.locator("main time").first().getAttribute("title") ?? "",
      /\(Asia\/Tokyo\)\n/,
    );
  });

  await step("the job form shows only the chosen target's fields", async () => {
    await page.goto(`${h.origin}/admin/jobs/new`);
    const shown = (selector: string) => page.locator(selector).isVisible();
    assert.equal(await shown("#target-http"), true);
    assert.equal(await shown("#http-checks"), true);
    assert.equal(await shown("#target-cloud-run"), false);
    await page.getByLabel("Target").selectOption("cloud_run_job");
    assert.equal(await shown("#target-http"), false);
    assert.equal(await shown("#http-checks"), false);
    assert.equal(await shown("#target-cloud-run"), true);
    await page.getByLabel("Target").selectOption("http");
    assert.equal(await shown("#target-http"), true);
  });

  // Things for every page to show: long names and addresses, runs that failed, a webhook, a
  // worker, a key, an inbound hook with an event, a channel, a maintenance window, a user.
  const long = await h.createJob({
    name: "Nightly-reconciliation-of-all-tenant-invoices-against-the-ledger",
    url: `${base}/a/rather/long/path/that/keeps/going/and/going?with=query&and=more`,
    schedule: "*/2 * * * * *",
    timezone: "America/Los_Angeles",
  });
  await h.createJob({
    name: "Legacy status page",
    url: "http://127.0.0.1:1/status",
    schedule: "*/3 * * * * *",
  });
  await h.createJob({ name: "Search index warm-up", url: `${base}/warm`, schedule: "@every 4s" });
  await h.api("POST", "/api/webhooks", { jobId: long.id, endpoint: `${base}/hook` });
  await h.api("POST", "/api/workers", { id: "aws-ap-northeast-1a-probe-worker" });
  await h.api("POST", "/api/keys", { name: "deploy pipeline", scopes: ["read:jobs"] });
  const hook = await h.api<{ id: string }>("POST", "/api/hooks", {
    name: "GitHub deployments for the billing service",
    verification: { mode: "header_secret", header: "X-Hook-Secret", secret: "s3cret-value-1" },
    action: { type: "store" },
  });
  await (await fetch(`${h.origin}/hooks/${hook.id}`, {
    method: "POST",
    headers: { "x-hook-secret": "s3cret-value-1", "content-type": "application/json" },
    body: JSON.stringify({ deployment: { environment: "production", sha: "0123456789abcdef" } }),
  })).body?.cancel();
  const channel = await h.api<{ id: string }>("POST", "/api/channels", {
    name: "On-call phones (primary rotation)",
    type: "ntfy",
    config: { serverUrl: "https://ntfy.sh", topic: "hibiki-oncall" },
  });
  await h.api("POST", "/api/maintenance", {
    name: "Database upgrade window",
    jobIds: [job.id],
    start: new Date(Date.now() + 86_400_000).toISOString(),
    end: new Date(Date.now() + 90_000_000).toISOString(),
  });
  await page.goto(`${h.origin}/admin/users`);
  await page.locator("#new-user").fill("operations-team-member");
  await page.locator("#new-password").fill("a-long-enough-password");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.goto(`${jobUrl}`);
  const runPath = await page.locator("table.runs tbody tr a").first().getAttribute("href");
  await page.goto(`${h.origin}/admin/hooks/${hook.id}`);
  const eventPath = await page.locator("main table a[href*='/events/']").first().getAttribute(
    "href",
  );
  // Wait until the busy jobs have runs, failures among them.
  await page.goto(`${h.origin}/admin`);
  await page.locator("table.jobs .badge-down").first().waitFor({ timeout: 15_000 });

  const pages = [
    "/admin",
    "/admin?q=nightly",
    `/admin/jobs/${job.id}`,
    `/admin/jobs/${long.id}`,
    runPath!,
    `/admin/jobs/${long.id}/edit`,
    "/admin/jobs/new",
    "/admin/keys",
    "/admin/workers",
    "/admin/users",
    "/admin/account",
    "/admin/credentials",
    "/admin/hooks",
    "/admin/hooks/new",
    `/admin/hooks/${hook.id}`,
    eventPath!,
    "/admin/channels",
    "/admin/channels/new",
    `/admin/channels/${channel.id}`,
    `/admin/channels/${channel.id}/edit`,
    "/admin/maintenance",
    "/admin/maintenance/new",
  ];

  await step("at 390 px no admin page scrolls sideways or squeezes words", async () => {
    await page.setViewportSize(PHONE);
    const found: string[] = [];
    for (const path of pages) {
      await page.goto(`${h.origin}${path}`);
      for (const problem of await layoutProblems(page)) found.push(`${path}: ${problem}`);
    }
    assert.deepEqual(found, []);
  });

  await step("the dashboard and a job page fit at 390 and 1280 px", async () => {
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size);
      await page.goto(`${h.origin}/admin`);
      await page.locator("table.jobs .badge-up").nth(1).waitFor({ timeout: 10_000 });
      assert.deepEqual(await layoutProblems(page), [], `dashboard at ${size.width} px`);
      await page.goto(`${h.origin}/admin/jobs/${long.id}`);
      await page.locator(".chart canvas").first().waitFor();
      await page.locator("table.runs tbody tr").nth(2).waitFor({ timeout: 10_000 });
      assert.deepEqual(await layoutProblems(page), [], `job page at ${size.width} px`);
    }
  });

  await step(
    "the dashboard counts jobs by state and draws each row's latest results at 390 and 1280 px",
    async () => {
      for (const size of [PHONE, DESKTOP]) {
        await page.setViewportSize(size);
        await page.goto(`${h.origin}/admin`);
        const counts = await page.locator("nav.state-counts").textContent() ?? "";
        assert.match(counts, /^\d+ Up\s*\d+ Down\s*\d+ Degraded\s*\d+ Paused\s*\d+ Maintenance/);
        const row = page.locator("table.jobs tbody tr", { hasText: "Nightly-reconciliation" });
        const bar = row.locator("svg.beats");
        // A stroked line has no height of its own: attached is as visible as it gets.
        await bar.locator("path.b-u").waitFor({ state: "attached", timeout: 10_000 });
        assert.equal(await row.locator("svg.spark path").count(), 1);
        const box = (await bar.boundingBox())!;
        assert.ok(box.x >= 0 && box.x + box.width <= size.width, `bar at ${JSON.stringify(box)}`);
        // On a phone the bar has a line of the card to itself.
        assert.ok(box.width >= (size === PHONE ? 300 : 150), `bar ${box.width} px wide`);
        // The newest result is at the right end: its time on the Tokyo clock and how it went.
        await bar.hover({ position: { x: box.width - 1, y: box.height / 2 } });
        const tip = row.locator(".beat-tip");
        await tip.waitFor({ timeout: 5_000 });
        assert.match(
          await tip.textContent() ?? "",
          /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+09:00 · Up · \d+ ms$/,
        );
        const tipBox = (await tip.boundingBox())!;
        assert.ok(tipBox.x + tipBox.width <= size.width + 1, `tip at ${JSON.stringify(tipBox)}`);
        await page.mouse.move(0, 0);
        await tip.waitFor({ state: "detached", timeout: 5_000 });
        const problems = await layoutProblems(page);
        assert.deepEqual(problems, [], `dashboard at ${size.width} px: ${problems.join("; ")}`);
      }
    },
  );

  await step("dark mode follows prefers-color-scheme, every text readable", async () => {
    const weak: string[] = [];
    for (const scheme of ["dark", "light"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (
        const path of ["/admin", `/admin/jobs/${long.id}`, "/admin/maintenance", "/admin/keys"]
      ) {
        await page.goto(`${h.origin}${path}`);
        await page.locator("main h1").first().waitFor();
        const background = await page.evaluate(() =>
          getComputedStyle(document.documentElement).backgroundColor
        );
        const dark = /rgb\((\d+), (\d+), (\d+)\)/.exec(background)!.slice(1).every((v) => +v < 60);
        assert.equal(dark, scheme === "dark", `${path} ${scheme}: ${background}`);
        for (const { what, ratio } of await contrasts(page)) {
          if (ratio < 4.5) weak.push(`${scheme} ${path} ${what}: ${ratio.toFixed(2)}`);
        }
      }
    }
    assert.deepEqual(weak, []);
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${h.origin}/admin`);
    await page.locator("table.jobs .badge-up").first().waitFor();
    await shot("dashboard_dark");
    await page.goto(`${h.origin}/admin/jobs/${long.id}`);
    await page.locator(".chart canvas").first().waitFor();
    await shot("job_dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  await step("no script ran from user input and the CSP blocked nothing", () => {
    assert.deepEqual(h.problems, []);
    return Promise.resolve();
  });
}

await finish(scenario);
