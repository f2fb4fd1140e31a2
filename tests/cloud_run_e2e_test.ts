/**
 * Cloud Run jobs end to end against a local fake of Google that checks what Google checks
 * (the JWT signature against the key's public half, the claims, the grant, the bearer
 * token, the run body): credentials through the API, a job of type cloud_run_job, a run
 * that starts an execution with the job's overrides and waits for it.
 */
import assert from "node:assert/strict";
import { createServiceAccount, FakeGoogle } from "./fakes/google.ts";
import { expectError, expectStatus, TestSystem } from "./helpers.ts";

const PROJECT = "hibiki-test";
const REGION = "asia-northeast1";
const JOB = "resume-job";

async function systemWithFake(outcome: "succeed" | "fail" = "succeed") {
  const fake = FakeGoogle.start();
  fake.addJob({ project: PROJECT, region: REGION, job: JOB, pollsToComplete: 2, outcome });
  const t = await TestSystem.start({
    now: Date.now(),
    env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", HIBIKI_GCP_RUN_URL: fake.origin },
    cloudRunPollDelays: [5],
  });
  const account = await createServiceAccount(fake, { projectId: PROJECT });
  const created = await t.call<{ id: string }>("POST", "/api/credentials", {
    body: { type: "gcp_service_account", key: JSON.parse(account.json) },
  });
  expectStatus(created, 201);
  return { t, fake, account, credentialId: created.body.data.id };
}

async function createCloudRunJob(t: TestSystem, fields: Record<string, unknown>) {
  const answer = await t.call<{ id: string; type: string }>("POST", "/api/jobs", {
    body: { type: "cloud_run_job", name: "resume", schedule: "0 9 * * *", ...fields },
  });
  expectStatus(answer, 201);
  return answer.body.data;
}

async function waitForRun(t: TestSystem, jobId: string, runId: string) {
  for (let i = 0; i < 200; i++) {
    await t.settle();
    const run = await t.call<Record<string, unknown>>("GET", `/api/jobs/${jobId}/runs/${runId}`);
    if (run.status === 200) return run.body.data;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("The run did not finish");
}

Deno.test("a credential is stored sealed and shown only as its email and key id", async () => {
  const { t, fake, account, credentialId } = await systemWithFake();
  await using _t = t;
  await using _f = fake;
  const list = await t.call<Record<string, unknown>[]>("GET", "/api/credentials");
  assert.deepEqual(Object.keys(list.body.data[0]).sort(), [
    "client_email",
    "createdAt",
    "id",
    "private_key_id",
    "project_id",
    "type",
  ]);
  assert.equal(list.body.data[0].client_email, account.clientEmail);
  for await (const entry of t.kv.list({ prefix: ["credential"] })) {
    const raw = JSON.stringify(entry.value);
    assert.ok(!raw.includes("PRIVATE KEY"), "the key is sealed at rest");
  }
  const deleted = await t.call("DELETE", `/api/credentials/${credentialId}`);
  expectStatus(deleted, 200);
});

Deno.test("a bad key is refused with a 400 naming key", async () => {
  const { t, fake } = await systemWithFake();
  await using _t = t;
  await using _f = fake;
  const answer = await t.call<unknown>("POST", "/api/credentials", {
    body: { type: "gcp_service_account", key: { type: "service_account" } },
  });
  assert.equal(answer.status, 400);
  assert.equal((answer.body as unknown as { error: { field: string } }).error.field, "key");
});

Deno.test("a cloud_run_job run starts an execution with the seed's overrides and records its end", async () => {
  const { t, fake, credentialId } = await systemWithFake();
  await using _t = t;
  await using _f = fake;
  const job = await createCloudRunJob(t, {
    timezone: "Asia/Tokyo",
    cloudRun: {
      project: PROJECT,
      region: REGION,
      job: JOB,
      credentialId,
      overrides: { env: [{ name: "RESUME_USERNAME", value: "alice" }], timeout: "3600s" },
    },
  });
  assert.equal(job.type, "cloud_run_job");
  const started = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  const run = await waitForRun(t, job.id, started.body.data.runId) as {
    status: string;
    execution: { name: string; succeededCount: number; status: string };
  };
  assert.equal(run.status, "success");
  assert.equal(run.execution.status, "succeeded");
  assert.match(run.execution.name, /executions\//);
  assert.equal(fake.runRequests, 1);
  const body = fake.runBodies[0] as {
    overrides: {
      containerOverrides: { env: { name: string; value: string }[] }[];
      timeout: string;
    };
  };
  const env = body.overrides.containerOverrides[0].env;
  assert.deepEqual(env.find((v) => v.name === "RESUME_USERNAME"), {
    name: "RESUME_USERNAME",
    value: "alice",
  });
  assert.ok(env.some((v) => v.name === "HIBIKI_FIRE_ID"));
  assert.equal(body.overrides.timeout, "3600s");
});

Deno.test("a failed execution is a failed run", async () => {
  const { t, fake, credentialId } = await systemWithFake("fail");
  await using _t = t;
  await using _f = fake;
  const job = await createCloudRunJob(t, {
    cloudRun: { project: PROJECT, region: REGION, job: JOB, credentialId },
  });
  const started = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  const run = await waitForRun(t, job.id, started.body.data.runId) as { status: string };
  assert.equal(run.status, "failure");
});

Deno.test("a key Google does not know is refused by the token endpoint and the run fails", async () => {
  const fake = FakeGoogle.start();
  await using _f = fake;
  fake.addJob({ project: PROJECT, region: REGION, job: JOB });
  const t = await TestSystem.start({
    now: Date.now(),
    env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", HIBIKI_GCP_RUN_URL: fake.origin },
    cloudRunPollDelays: [5],
  });
  await using _t = t;
  const stranger = await createServiceAccount(fake, { projectId: PROJECT, register: false });
  const created = await t.call<{ id: string }>("POST", "/api/credentials", {
    body: { type: "gcp_service_account", key: stranger.json },
  });
  const job = await createCloudRunJob(t, {
    cloudRun: { project: PROJECT, region: REGION, job: JOB, credentialId: created.body.data.id },
  });
  const started = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  const run = await waitForRun(t, job.id, started.body.data.runId) as {
    status: string;
    error: { message: string };
  };
  assert.equal(run.status, "failure");
  assert.equal(fake.runRequests, 0);
});

Deno.test("cloud_run_job input is checked: no url, known credential, and the target named", async () => {
  const { t, fake } = await systemWithFake();
  await using _t = t;
  await using _f = fake;
  for (
    const [body, field] of [
      [
        { url: "https://example.com/", cloudRun: { project: PROJECT, region: REGION, job: JOB } },
        "url",
      ],
      [
        { cloudRun: { project: PROJECT, region: REGION, job: JOB, credentialId: "nope" } },
        "cloudRun",
      ],
      [{ cloudRun: { region: REGION, job: JOB, credentialId: "x" } }, "cloudRun"],
      [
        { cloudRun: { project: PROJECT, region: "Tokyo", job: JOB, credentialId: "x" } },
        "cloudRun",
      ],
    ] as const
  ) {
    const answer = await t.call<unknown>("POST", "/api/jobs", {
      body: { type: "cloud_run_job", name: "x", schedule: "@hourly", ...body },
    });
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal((answer.body as unknown as { error: { field: string } }).error.field, field);
  }
});

Deno.test("cloud_run_job input explains the fields seed 000's client sends that a run cannot take", async () => {
  const { t, fake, credentialId } = await systemWithFake();
  await using _t = t;
  await using _f = fake;
  const target = { project: PROJECT, region: REGION, job: JOB, credentialId };
  for (
    const [cloudRun, message] of [
      [
        { ...target, serviceAccount: "runner@hibiki-test.iam.gserviceaccount.com" },
        /^cloudRun has an unknown field "serviceAccount": .*run request cannot set .*service account.* on the Cloud Run job itself/,
      ],
      [
        { ...target, overrides: { serviceAccount: "runner@hibiki-test.iam.gserviceaccount.com" } },
        /^cloudRun\.overrides has an unknown field "serviceAccount": .*Cloud Run job itself/,
      ],
      [
        { ...target, overrides: { containerOverrides: [{ env: [] }] } },
        /^cloudRun\.overrides has an unknown field "containerOverrides": .*cloudRun\.overrides/,
      ],
    ] as const
  ) {
    const answer = await t.call<unknown>("POST", "/api/jobs", {
      body: { type: "cloud_run_job", name: "x", schedule: "@hourly", cloudRun },
    });
    const error = expectError(answer, 400, "INVALID_REQUEST", "cloudRun");
    assert.match(error.message, message);
  }
  assert.equal(fake.runRequests, 0);
});

Deno.test("an inbound webhook runs a Cloud Run job with env from its payload", async () => {
  const { t, fake, credentialId } = await systemWithFake();
  await using _t = t;
  await using _f = fake;
  const job = await createCloudRunJob(t, {
    cloudRun: { project: PROJECT, region: REGION, job: JOB, credentialId },
  });
  const hook = await t.call<{ id: string }>("POST", "/api/hooks", {
    body: {
      name: "resume",
      verification: { mode: "none" },
      action: { type: "run", jobId: job.id },
    },
  });
  expectStatus(hook, 201);
  const arrived = await t.system.app.request(`/hooks/${hook.body.data.id}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ env: { RESUME_USERNAME: "bob" } }),
  });
  assert.equal(arrived.status, 200);
  await arrived.body?.cancel();
  for (let i = 0; i < 200 && fake.runRequests === 0; i++) {
    await t.settle();
    await new Promise((r) => setTimeout(r, 10));
  }
  await t.settle();
  const body = fake.runBodies[0] as {
    overrides: { containerOverrides: { env: { name: string; value: string }[] }[] };
  };
  assert.ok(
    body.overrides.containerOverrides[0].env.some((v) =>
      v.name === "RESUME_USERNAME" && v.value === "bob"
    ),
  );
});
