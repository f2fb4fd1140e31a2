/**
 * The maintenance window pages: one-off windows typed in a zone and recurring ones on a cron
 * schedule, where each stands (in progress, upcoming, ended) and its next occurrence, end now,
 * edits that leave the timing alone unless it changed, the API's errors beside the field they
 * name with the user's input kept, CSRF, owners kept apart, a concurrent change as a 409 page,
 * Japanese. Time is the test clock's (T0 = 2026-03-02 12:00 UTC).
 */
import assert from "node:assert/strict";
import { type MaintenanceView, MAX_WINDOWS_PER_OWNER } from "../lib/alerts/maintenance.ts";
import { type AdminClient, AdminTestSystem, expectRedirect } from "./admin_client.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;

async function signedIn() {
  const s = await AdminTestSystem.start();
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  const job = await client.createJob({
    name: "Billing API",
    url: "https://example.com/",
    schedule: "*/5 * * * *",
  });
  return { s, client, job };
}

function errorText(html: string, id: string): string | null {
  return new RegExp(`id="${id}"[^>]*>([^<]+)<`).exec(html)?.[1] ?? null;
}

function inputValue(html: string, id: string): string | null {
  return new RegExp(`<input id="${id}" [^>]*value="([^"]*)"`).exec(html)?.[1] ?? null;
}

/** The list's row of a window: its cells' text. */
async function row(client: AdminClient, id: string): Promise<string> {
  const html = (await client.get("/admin/maintenance")).html;
  const found = new RegExp(`<tr data-window="${id}">(.*?)</tr>`).exec(html)?.[1] ?? "";
  return found.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}

async function windows(client: AdminClient): Promise<MaintenanceView[]> {
  return await client.api<MaintenanceView[]>("GET", "/api/maintenance?limit=50");
}

const ONCE = {
  name: "Database upgrade",
  coverage: "jobs",
  kind: "once",
  start: "2026-03-03T01:00",
  end: "2026-03-03T03:00",
  zone: "Asia/Tokyo",
};

Deno.test("a one-off window typed in a zone is stored as those instants and listed as upcoming", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  const empty = await client.get("/admin/maintenance");
  assert.match(empty.html, /No maintenance windows yet\./);
  const form = await client.get("/admin/maintenance/new");
  assert.equal(form.status, 200);
  assert.match(form.html, /<input type="radio" id="mw-kind-once" name="kind" value="once" checked/);
  assert.match(form.html, new RegExp(`name="jobIds" value="${job.id}"/> Billing API`));
  // Until the browser says its zone, a new window starts at the next full hour, in UTC.
  assert.equal(inputValue(form.html, "mw-start"), "2026-03-02T12:00");
  assert.equal(inputValue(form.html, "mw-end"), "2026-03-02T13:00");
  assert.match(form.html, /&quot;guessZone&quot;:true/);
  assert.doesNotMatch(form.html, /\son[a-z]+=|\sstyle=|<script(?![^>]*\bsrc=)/);
  const scripts = [...form.html.matchAll(/<script type="module" src="([^"?]+)/g)].map((m) => m[1]);
  assert.deepEqual(scripts.sort(), [
    "/static/build/schedule_fields.js",
    "/static/build/window_span.js",
  ]);

  expectRedirect(
    await client.post("/admin/maintenance/new", { ...ONCE, name: XSS, jobIds: [job.id] }),
    "/admin/maintenance",
  );
  const [window] = await windows(client);
  assert.equal(window.name, XSS);
  assert.equal(window.start, "2026-03-02T16:00:00.000Z");
  assert.equal(window.end, "2026-03-02T18:00:00.000Z");
  assert.deepEqual(window.jobIds, [job.id]);
  assert.equal(window.all, false);

  const list = await client.get("/admin/maintenance");
  assert.doesNotMatch(list.html, /<img src=x/);
  assert.match(list.html, /&lt;img src=x onerror=alert\(1\)>/);
  assert.match(
    await row(client, window.id),
    new RegExp(
      "Billing API 2026-03-02 16:00 \\+00:00 until 2026-03-02 18:00 \\+00:00 " +
        "Upcoming 2026-03-02 16:00 \\+00:00 End now$",
    ),
  );
});

Deno.test("a recurring window on all jobs shows its schedule, length, zone and next start", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  expectRedirect(
    await client.post("/admin/maintenance/new", {
      name: "Nightly backup",
      coverage: "all",
      kind: "recurring",
      schedule: "0 3 * * *",
      durationMinutes: "90",
      timezone: "Asia/Tokyo",
    }),
    "/admin/maintenance",
  );
  const [window] = await windows(client);
  assert.equal(window.all, true);
  assert.equal(window.schedule, "0 3 * * *");
  assert.equal(window.durationMinutes, 90);
  assert.equal(window.timezone, "Asia/Tokyo");
  assert.equal(
    await row(client, window.id),
    "Nightly backup All jobs 0 3 * * * for 90 min Asia/Tokyo Upcoming 2026-03-03 03:00 +09:00 End now",
  );
});

Deno.test("a window on now is in progress until ended; ending it keeps it ended through a rename", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  await client.post("/admin/maintenance/new", {
    ...ONCE,
    jobIds: [job.id],
    start: "2026-03-02T11:00",
    end: "2026-03-02T13:00",
    zone: "UTC",
  });
  const [window] = await windows(client);
  assert.match(
    await row(client, window.id),
    /In progress On until 2026-03-02 13:00 \+00:00 End now$/,
  );
  expectRedirect(
    await client.post(`/admin/maintenance/${window.id}/end`),
    "/admin/maintenance",
  );
  assert.match(await row(client, window.id), /Ended Ended early$/);

  // The form shows it in UTC (the browser moves it into its zone); sent back as it was, with a
  // new name and no jobs but all, the timing is unchanged and the window stays ended.
  const edit = await client.get(`/admin/maintenance/${window.id}/edit`);
  assert.equal(inputValue(edit.html, "mw-start"), "2026-03-02T11:00");
  assert.equal(inputValue(edit.html, "mw-end"), "2026-03-02T13:00");
  assert.doesNotMatch(edit.html, /id="mw-kind-recurring"/);
  assert.doesNotMatch(edit.html, /action="[^"]+\/end"/);
  const version = /name="version" value="([^"]+)"/.exec(edit.html)![1];
  s.clock.advance(60_000);
  expectRedirect(
    await client.post(`/admin/maintenance/${window.id}/edit`, {
      version,
      name: "Database upgrade (done)",
      coverage: "all",
      kind: "once",
      start: "2026-03-02T11:00",
      end: "2026-03-02T13:00",
      zone: "UTC",
    }),
    "/admin/maintenance",
  );
  let after = (await windows(client))[0];
  assert.equal(after.name, "Database upgrade (done)");
  assert.equal(after.all, true);
  assert.equal(after.status, "ended");

  // A new end is a new plan: the window covers again until then.
  s.clock.advance(60_000);
  await client.post(`/admin/maintenance/${window.id}/edit`, {
    version: after.updatedAt,
    name: "Database upgrade (more)",
    coverage: "jobs",
    jobIds: [job.id],
    kind: "recurring", // ignored: the kind is fixed
    start: "2026-03-02T20:00",
    end: "2026-03-02T23:00",
    zone: "Asia/Tokyo",
  });
  after = (await windows(client))[0];
  assert.equal(after.start, "2026-03-02T11:00:00.000Z");
  assert.equal(after.end, "2026-03-02T14:00:00.000Z");
  assert.equal(after.status, "active");
  assert.deepEqual(after.jobIds, [job.id]);
});

Deno.test("a rejected window form shows the message beside the field, with what was typed", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  await client.get("/admin/maintenance/new");
  const RECURRING = {
    ...ONCE,
    kind: "recurring",
    schedule: "0 3 * * 0",
    durationMinutes: "60",
    timezone: "UTC",
  };
  const cases: [Record<string, string | string[]>, string, RegExp][] = [
    [{ name: " " }, "mw-name-error", /name/],
    [{ jobIds: [] }, "mw-jobs-error", /at least one job/],
    [{ jobIds: ["no-such-job"] }, "mw-jobs-error", /Job &quot;no-such-job&quot; not found/],
    [{ end: "2026-03-03T00:30" }, "mw-end-error", /end must be after start/],
    [{ start: "2026-03-01T01:00", end: "2026-03-01T02:00" }, "mw-end-error", /future/],
    [{ start: "" }, "mw-start-error", /start is required/],
    [{ zone: "Mars/Olympus" }, "mw-zone-error", /Unknown time zone &quot;Mars\/Olympus&quot;/],
    [{ ...RECURRING, schedule: "61 * * * *" }, "job-schedule-error", /minute/i],
    [{ ...RECURRING, schedule: "@every 30s" }, "job-schedule-error", /@every is for jobs/],
    [{ ...RECURRING, timezone: "Mars/Olympus" }, "job-timezone-error", /time ?zone/i],
    [{ ...RECURRING, durationMinutes: "an hour" }, "mw-duration-error", /whole number/],
    [{ ...RECURRING, durationMinutes: "20000" }, "mw-duration-error", /from 1 to 10080/],
  ];
  for (const [change, id, message] of cases) {
    const page = await client.post("/admin/maintenance/new", {
      ...ONCE,
      name: "Typed name",
      jobIds: [job.id],
      ...change,
    });
    const label = JSON.stringify(change);
    assert.equal(page.status, 400, label);
    assert.match(errorText(page.html, id) ?? "", message, label);
    if (change.name === undefined) assert.equal(inputValue(page.html, "mw-name"), "Typed name");
    const kind = change.kind ?? "once";
    assert.match(page.html, new RegExp(`id="mw-kind-${kind}" name="kind" value="${kind}" checked`));
    if (change.jobIds === undefined) {
      assert.match(page.html, new RegExp(`value="${job.id}" checked`), label);
    }
  }
  const typed = await client.post("/admin/maintenance/new", {
    ...ONCE,
    name: "",
    jobIds: [job.id],
  });
  assert.equal(inputValue(typed.html, "mw-start"), "2026-03-03T01:00");
  assert.equal(inputValue(typed.html, "mw-zone"), "Asia/Tokyo");
  assert.match(typed.html, /&quot;guessZone&quot;:false/);
  assert.deepEqual(await windows(client), []);
});

Deno.test("a window past the owner's limit is refused above the form, which keeps the input", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  for (let i = 0; i < MAX_WINDOWS_PER_OWNER; i++) {
    await client.api("POST", "/api/maintenance", {
      name: `Window ${i}`,
      all: true,
      start: "2026-03-03T00:00:00Z",
      end: "2026-03-03T01:00:00Z",
    });
  }
  await client.get("/admin/maintenance/new");
  const refused = await client.post("/admin/maintenance/new", { ...ONCE, jobIds: [job.id] });
  assert.equal(refused.status, 409);
  assert.match(refused.html, /class="error form-error" role="alert">[^<]*delete ended ones first/);
  assert.equal(inputValue(refused.html, "mw-name"), "Database upgrade");
});

Deno.test("window forms need the CSRF token; deleting needs the box", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  await client.post("/admin/maintenance/new", { ...ONCE, jobIds: [job.id] });
  const [window] = await windows(client);
  const edit = await client.get(`/admin/maintenance/${window.id}/edit`);
  assert.match(
    edit.html,
    new RegExp(`action="/admin/maintenance/${window.id}/delete" class="danger-zone"`),
  );
  for (const path of ["new", `${window.id}/edit`, `${window.id}/end`, `${window.id}/delete`]) {
    const refused = await client.post(`/admin/maintenance/${path}`, {
      ...ONCE,
      jobIds: [job.id],
      _csrf: "forged",
      confirm: "1",
    });
    assert.equal(refused.status, 403, path);
  }
  assert.equal((await windows(client))[0].status, "scheduled");
  assert.equal((await client.post(`/admin/maintenance/${window.id}/delete`, {})).status, 400);
  expectRedirect(
    await client.post(`/admin/maintenance/${window.id}/delete`, { confirm: "1" }),
    "/admin/maintenance",
  );
  assert.deepEqual(await windows(client), []);
  assert.equal((await client.get(`/admin/maintenance/${window.id}/edit`)).status, 404);
});

Deno.test("another user's windows and jobs are not found from the maintenance pages", async () => {
  const { s, client: admin, job } = await signedIn();
  await using _ = s;
  await admin.post("/admin/maintenance/new", { ...ONCE, jobIds: [job.id] });
  const [window] = await windows(admin);
  await admin.get("/admin/users");
  await admin.post("/admin/users", { id: "acme", password: "acme-long-password" });
  const acme = s.client();
  await acme.signIn("acme", "acme-long-password");
  const list = await acme.get("/admin/maintenance");
  assert.doesNotMatch(list.html, /Database upgrade/);
  assert.doesNotMatch((await acme.get("/admin/maintenance/new")).html, /Billing API/);
  const base = `/admin/maintenance/${window.id}`;
  assert.equal((await acme.get(`${base}/edit`)).status, 404);
  for (const path of [`${base}/edit`, `${base}/end`, `${base}/delete`]) {
    const page = await acme.post(path, { ...ONCE, jobIds: [job.id], confirm: "1" });
    assert.equal(page.status, 404, path);
    assert.match(page.html, /Not found/);
  }
  // Naming the other user's job is refused beside the jobs, as a job that does not exist.
  const refused = await acme.post("/admin/maintenance/new", { ...ONCE, jobIds: [job.id] });
  assert.equal(refused.status, 400);
  assert.match(errorText(refused.html, "mw-jobs-error") ?? "", /not found/);
  assert.equal((await windows(admin))[0].status, "scheduled");
});

Deno.test("a window changed since its edit form was read is not saved: a 409 page", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  await client.post("/admin/maintenance/new", { ...ONCE, jobIds: [job.id] });
  const [window] = await windows(client);
  const edit = await client.get(`/admin/maintenance/${window.id}/edit`);
  const version = /name="version" value="([^"]+)"/.exec(edit.html)![1];
  s.clock.advance(1000);
  await client.api("PATCH", `/api/maintenance/${window.id}`, { name: "Changed elsewhere" });
  const lost = await client.post(`/admin/maintenance/${window.id}/edit`, {
    ...ONCE,
    version,
    name: "Mine",
    jobIds: [job.id],
  });
  assert.equal(lost.status, 409);
  assert.match(lost.html, /Not saved: it changed meanwhile/);
  assert.equal((await windows(client))[0].name, "Changed elsewhere");
});

Deno.test("a job's id in the address ticks it on the new window form", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  const form = await client.get(`/admin/maintenance/new?job=${job.id}`);
  assert.match(form.html, new RegExp(`name="jobIds" value="${job.id}" checked`));
});

Deno.test("the maintenance pages speak Japanese", async () => {
  const { s, client, job } = await signedIn();
  await using _ = s;
  await client.post("/admin/maintenance/new", { ...ONCE, jobIds: [job.id] });
  const ja = { "accept-language": "ja" };
  const list = await client.get("/admin/maintenance", ja);
  assert.match(list.html, /<h1>メンテナンスウィンドウ<\/h1>/);
  assert.match(list.html, /data-testid="window-status">予定</);
  assert.match(list.html, /<a href="\/admin\/maintenance" aria-current="page">メンテナンス<\/a>/);
  const form = await client.get("/admin/maintenance/new", ja);
  assert.match(form.html, /スケジュールで繰り返す/);
  assert.match(form.html, /開始・終了のタイムゾーン/);
});
