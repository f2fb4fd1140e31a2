/**
 * The admin pages for Cloud Run jobs: the credentials page (paste or upload a key, which is
 * never shown again; delete with confirmation), the job form's Cloud Run target with the
 * API's errors beside it, and the job and run pages showing each run's execution.
 */
import assert from "node:assert/strict";
import type { CredentialView } from "../lib/gcp/credentials.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import { runId } from "../lib/store/run_id.ts";
import type { JobView, Run } from "../lib/store/types.ts";
import { AdminClient, AdminTestSystem, expectRedirect, type Page } from "./admin_client.ts";
import { createServiceAccount, FakeGoogle } from "./fakes/google.ts";
import { T0 } from "./helpers.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;

async function signedIn() {
  const s = await AdminTestSystem.start({ HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" });
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  return { s, client };
}

/** A service-account key file as Google hands it out (its token_uri is a local fake's). */
async function keyFile(clientEmail = "runner@hibiki-test.iam.gserviceaccount.com") {
  await using fake = FakeGoogle.start();
  return await createServiceAccount(fake, { clientEmail, register: false });
}

/** Posts a multipart form, as a browser does for a form with a file input. */
async function postMultipart(
  client: AdminClient,
  path: string,
  fields: Record<string, string>,
  file?: { field: string; name: string; content: string },
): Promise<Page> {
  const boundary = `----hibiki${crypto.randomUUID().replaceAll("-", "")}`;
  let body = "";
  for (const [name, value] of Object.entries({ _csrf: client.csrf, ...fields })) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  if (file) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; ` +
      `filename="${file.name}"\r\nContent-Type: application/json\r\n\r\n${file.content}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return await client.send("POST", path, body, {
    "content-type": `multipart/form-data; boundary=${boundary}`,
  });
}

function errorText(html: string, id: string): string | null {
  return new RegExp(`id="${id}"[^>]*>([^<]+)<`).exec(html)?.[1] ?? null;
}

Deno.test("a key pasted or uploaded on the credentials page is listed, never shown", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const page = await client.get("/admin/credentials");
  assert.equal(page.status, 200);
  assert.match(page.html, /<a href="\/admin\/credentials" aria-current="page">Credentials<\/a>/);
  assert.match(page.html, /enctype="multipart\/form-data"/);
  assert.match(page.html, /No credentials yet\./);

  const pasted = await keyFile();
  const added = await postMultipart(client, "/admin/credentials", { key: pasted.json });
  expectRedirect(added, /^\/admin\/credentials\?added=cred_[0-9a-f]{32}$/);
  const after = await client.get(added.location!);
  assert.match(after.html, /Added the key of runner@hibiki-test\.iam\.gserviceaccount\.com/);
  assert.match(after.html, new RegExp(pasted.privateKeyId));
  assert.match(after.html, /<td>hibiki-test<\/td>/);

  const uploaded = await keyFile("uploader@hibiki-test.iam.gserviceaccount.com");
  const viaFile = await postMultipart(client, "/admin/credentials", { key: "" }, {
    field: "keyFile",
    name: "key.json",
    content: uploaded.json,
  });
  expectRedirect(viaFile, /^\/admin\/credentials\?added=cred_/);
  const list = await client.get("/admin/credentials");
  const emails = [...list.html.matchAll(/data-testid="client-email">([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(emails.sort(), [
    "runner@hibiki-test.iam.gserviceaccount.com",
    "uploader@hibiki-test.iam.gserviceaccount.com",
  ]);
  for (const html of [after.html, list.html]) {
    assert.doesNotMatch(html, /PRIVATE KEY|private_key"/);
  }
  assert.equal((await client.api<CredentialView[]>("GET", "/api/credentials")).length, 2);
});

Deno.test("a bad key shows the service's message beside the key field, not the key", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  await client.get("/admin/credentials");
  const bad = JSON.stringify({ type: "service_account", private_key: "SECRET-PEM-TEXT" });
  const page = await postMultipart(client, "/admin/credentials", { key: bad });
  assert.equal(page.status, 400);
  assert.match(errorText(page.html, "credential-key-error") ?? "", /Invalid service account key/);
  assert.doesNotMatch(page.html, /SECRET-PEM-TEXT/);
  const empty = await postMultipart(client, "/admin/credentials", { key: " " });
  assert.match(errorText(empty.html, "credential-key-error") ?? "", /Paste a key/);
  // An upload above the cap is refused before it is read.
  const huge = await postMultipart(client, "/admin/credentials", { key: "" }, {
    field: "keyFile",
    name: "key.json",
    content: "x".repeat(200 * 1024),
  });
  assert.equal(huge.status, 400);
  assert.match(huge.html, /too large/);
  // Without the CSRF token nothing is stored.
  const pasted = await keyFile();
  const forged = await postMultipart(client, "/admin/credentials", {
    key: pasted.json,
    _csrf: "forged",
  });
  assert.equal(forged.status, 403);
  assert.equal((await client.api<CredentialView[]>("GET", "/api/credentials")).length, 0);
});

Deno.test("deleting a credential needs the confirmation box; tenants see only their own", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const key = await keyFile();
  const cred = await client.api<CredentialView>("POST", "/api/credentials", {
    type: "gcp_service_account",
    key: key.json,
  });
  await client.get("/admin/users");
  expectRedirect(
    await client.post("/admin/users", { id: "acme", password: "acme-password-long" }),
    "/admin/users",
  );
  const acme = s.client();
  await acme.signIn("acme", "acme-password-long");
  const theirs = await acme.get("/admin/credentials");
  assert.equal(theirs.status, 200);
  assert.doesNotMatch(theirs.html, new RegExp(cred.id));
  assert.equal(
    (await acme.post(`/admin/credentials/${cred.id}/delete`, { confirm: "1" })).status,
    404,
  );

  await client.get("/admin/credentials");
  const unconfirmed = await client.post(`/admin/credentials/${cred.id}/delete`, {});
  assert.equal(unconfirmed.status, 400);
  assert.match(unconfirmed.html, /Tick the box to confirm/);
  assert.equal((await client.api<CredentialView[]>("GET", "/api/credentials")).length, 1);
  expectRedirect(
    await client.post(`/admin/credentials/${cred.id}/delete`, { confirm: "1" }),
    "/admin/credentials",
  );
  assert.equal((await client.api<CredentialView[]>("GET", "/api/credentials")).length, 0);
});

const CLOUD_RUN_FIELDS = {
  target: "cloud_run_job",
  name: "resume",
  schedule: "0 9 * * *",
  timezone: "Asia/Tokyo",
  crProject: "hibiki-test",
  crRegion: "asia-northeast1",
  crJob: "resume-job",
  crEnv: "RESUME_USERNAME=alice\nGREETING=a=b",
  crArgs: "--fast\n--dry-run",
  crTaskCount: "2",
  crTimeout: "3600s",
  local: "1",
  enabled: "1",
  // The HTTP fieldset is on the page too; its values are ignored for a Cloud Run job.
  url: "",
  method: "GET",
  timeoutSeconds: "30",
};

Deno.test("the job form creates and edits a Cloud Run job", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const key = await keyFile();
  const cred = await client.api<CredentialView>("POST", "/api/credentials", {
    type: "gcp_service_account",
    key: key.json,
  });
  const form = await client.get("/admin/jobs/new");
  assert.match(form.html, /<select id="job-target" name="target">/);
  assert.match(form.html, /<fieldset id="target-cloud-run"/);
  assert.match(
    form.html,
    new RegExp(`<option value="${cred.id}">runner@hibiki-test.iam.gserviceaccount.com`),
  );

  const created = await client.post("/admin/jobs/new", {
    ...CLOUD_RUN_FIELDS,
    crCredential: cred.id,
  });
  expectRedirect(created, /^\/admin\/jobs\/[0-9a-f-]{36}$/);
  const jobId = created.location!.split("/").pop()!;
  const job = await client.api<JobView>("GET", `/api/jobs/${jobId}`);
  assert.equal(job.type, "cloud_run_job");
  assert.deepEqual(job.cloudRun, {
    project: "hibiki-test",
    region: "asia-northeast1",
    job: "resume-job",
    credentialId: cred.id,
    overrides: {
      env: [{ name: "RESUME_USERNAME", value: "alice" }, { name: "GREETING", value: "a=b" }],
      args: ["--fast", "--dry-run"],
      taskCount: 2,
      timeout: "3600s",
    },
  });

  const page = await client.get(created.location!);
  assert.match(
    page.html,
    /data-testid="cloud-run-target"><code>projects\/hibiki-test\/locations\/asia-northeast1\/jobs\/resume-job<\/code>/,
  );
  assert.match(page.html, /RESUME_USERNAME=alice/);

  // Editing shows only the Cloud Run part, filled in; emptying an override removes it.
  const edit = await client.get(`${created.location}/edit`);
  assert.match(edit.html, /<input type="hidden" name="target" value="cloud_run_job"/);
  assert.doesNotMatch(edit.html, /id="job-url"/);
  assert.match(edit.html, /<textarea id="job-cr-env"[^>]*>RESUME_USERNAME=alice\nGREETING=a=b/);
  const saved = await client.post(`${created.location}/edit`, {
    ...CLOUD_RUN_FIELDS,
    crCredential: cred.id,
    crJob: "other-job",
    crArgs: "",
    crTaskCount: "",
  });
  expectRedirect(saved, created.location!);
  const changed = await client.api<JobView>("GET", `/api/jobs/${jobId}`);
  assert.equal(changed.cloudRun?.job, "other-job");
  assert.deepEqual(changed.cloudRun?.overrides.args, undefined);
  assert.equal(changed.cloudRun?.overrides.taskCount, undefined);
  assert.equal(changed.cloudRun?.overrides.timeout, "3600s");
});

Deno.test("a rejected Cloud Run target shows the API's message beside its fieldset", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  await client.get("/admin/jobs/new");
  const cases: [Record<string, string>, RegExp][] = [
    [{ crCredential: "" }, /credentialId is required/],
    [{ crCredential: "cred_nope" }, /unknown credential &quot;cred_nope&quot;/],
    [{ crCredential: "cred_x", crRegion: "Tokyo!" }, /region like asia-northeast1/],
    [{ crCredential: "cred_x", crEnv: "NO_EQUALS_SIGN" }, /NAME=value/],
    [{ crCredential: "cred_x", crTimeout: "an hour" }, /seconds like &quot;3600s&quot;/],
    [{ crCredential: "cred_x", crTaskCount: "2.5" }, /whole number/],
  ];
  for (const [change, message] of cases) {
    const page = await client.post("/admin/jobs/new", {
      ...CLOUD_RUN_FIELDS,
      ...change,
      name: XSS,
    });
    assert.equal(page.status, 400, JSON.stringify(change));
    assert.match(page.html, /<fieldset id="target-cloud-run" class="field-error"/);
    assert.match(errorText(page.html, "job-cloudrun-error") ?? "", message, JSON.stringify(change));
    // The form comes back as it was sent, escaped.
    assert.match(page.html, /<option value="cloud_run_job" selected>/);
    assert.match(page.html, /value="&lt;img src=x onerror=alert\(1\)>&quot;'&amp;"/);
    assert.doesNotMatch(page.html, /<img src=x/);
  }
  // Workers are for HTTP jobs: that message goes beside the workers field.
  const key = await keyFile();
  const cred = await client.api<CredentialView>("POST", "/api/credentials", {
    type: "gcp_service_account",
    key: key.json,
  });
  const withWorkers = await client.post("/admin/jobs/new", {
    ...CLOUD_RUN_FIELDS,
    crCredential: cred.id,
    workers: "aws-tyo1a",
  });
  assert.equal(withWorkers.status, 400);
  assert.match(errorText(withWorkers.html, "job-workers-error") ?? "", /HTTP jobs/);
  // An HTTP job is still made from the same form.
  expectRedirect(
    await client.post("/admin/jobs/new", {
      ...CLOUD_RUN_FIELDS,
      target: "http",
      url: "https://example.com/",
    }),
    /^\/admin\/jobs\/[0-9a-f-]{36}$/,
  );
});

Deno.test("job and run pages show each run's execution, tasks and an escaped log link", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const key = await keyFile();
  const cred = await client.api<CredentialView>("POST", "/api/credentials", {
    type: "gcp_service_account",
    key: key.json,
  });
  const job = await client.createJob({
    type: "cloud_run_job",
    name: "resume",
    schedule: "0 9 * * *",
    cloudRun: {
      project: "hibiki-test",
      region: "asia-northeast1",
      job: "resume-job",
      credentialId: cred.id,
    },
  });
  const execution =
    "projects/hibiki-test/locations/asia-northeast1/jobs/resume-job/executions/resume-job-x7k2p";
  const runs: [string, string | null][] = [
    ["a", `https://console.cloud.google.com/logs?q="a"&b=<c>`],
    ["b", "javascript:alert(1)"],
  ];
  for (const [i, [suffix, logUri]] of runs.entries()) {
    const at = T0 - (i + 1) * 60_000;
    const run: Run = {
      id: runId(at, suffix),
      jobId: job.id,
      userId: "default",
      where: "local",
      trigger: "AUTO",
      status: i === 0 ? "success" : "failure",
      code: 200,
      scheduledAt: new Date(at).toISOString(),
      startedAt: new Date(at).toISOString(),
      finishedAt: new Date(at + 5000).toISOString(),
      durationMs: 5000,
      lateMs: 3,
      response: null,
      error: null,
      failure: null,
      execution: {
        name: execution,
        succeededCount: 2 - i,
        failedCount: i,
        logUri,
        status: i === 0 ? "succeeded" : "failed",
      },
    };
    await s.kv.set(kvKeys.run("default", job.id, at, suffix), run);
  }
  const page = await client.get(`/admin/jobs/${job.id}`);
  assert.equal(page.status, 200);
  assert.match(page.html, /<code title="projects\/hibiki-test\/[^"]+">resume-job-x7k2p<\/code>/);
  assert.match(page.html, /2 ✓ 0 ✗/);
  assert.match(
    page.html,
    /<a href="https:\/\/console\.cloud\.google\.com\/logs\?q=&quot;a&quot;&amp;b=&lt;c>" rel="noopener noreferrer" target="_blank">Logs<\/a>/,
  );
  // Only https addresses become links.
  assert.doesNotMatch(page.html, /href="javascript:/);
  assert.match(page.html, /<code>javascript:alert\(1\)<\/code>/);
  assert.match(page.html, /&quot;executions&quot;:true/);

  const runPage = await client.get(`/admin/jobs/${job.id}/runs/${runId(T0 - 60_000, "a")}`);
  assert.equal(runPage.status, 200);
  assert.match(runPage.html, new RegExp(`data-testid="execution-name">${execution}<`));
  assert.match(runPage.html, /2 succeeded, 0 failed/);
  assert.match(runPage.html, /rel="noopener noreferrer"[^>]*>Open in Cloud Logging<\/a>/);
});
