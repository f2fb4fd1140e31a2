import assert from "node:assert/strict";
import { buildRunBody, toExecutionStatus } from "./cloud_run.ts";
import { GcpError } from "./errors.ts";
import { JOB, PROJECT, REGION, startGcpHarness } from "./test_support.ts";

const job = { project: PROJECT, region: REGION, job: JOB };

Deno.test("runJob() sends the seed's example: env RESUME_USERNAME and timeout 3600s", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  const run = await client.runJob({
    credential,
    ...job,
    overrides: { env: [{ name: "RESUME_USERNAME", value: "octocat" }], timeout: "3600s" },
  });
  assert.deepEqual(fake.runBodies, [{
    overrides: {
      containerOverrides: [{ env: [{ name: "RESUME_USERNAME", value: "octocat" }] }],
      timeout: "3600s",
    },
  }]);
  // The execution is the Operation's metadata, not the Operation itself (the seed's mistake).
  assert.equal(run.executionName, fake.executions[0].name);
  assert.match(
    run.executionName,
    /^projects\/hibiki-test\/locations\/asia-northeast1\/jobs\/resume-job\/executions\/resume-job-[a-z0-9]{5}$/,
  );
  assert.match(run.operationName, /\/operations\//);
  assert.deepEqual(fake.executions[0].env, [{ name: "RESUME_USERNAME", value: "octocat" }]);
});

Deno.test("buildRunBody() omits the parts that are not set", () => {
  assert.deepEqual(buildRunBody(), {});
  assert.deepEqual(buildRunBody({ env: [], args: [] }), {});
  assert.deepEqual(buildRunBody({ args: ["--full"], taskCount: 3 }), {
    overrides: { containerOverrides: [{ args: ["--full"] }], taskCount: 3 },
  });
});

Deno.test("runJob() after a 401 refreshes the token once and retries once", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  await client.runJob({ credential, ...job });
  fake.revokeTokens();
  await client.runJob({ credential, ...job });
  assert.equal(fake.tokenRequests, 2);
  assert.equal(fake.runRequests, 3, "first run, the refused one, its retry");
  assert.equal(fake.executions.length, 2);
});

Deno.test("runJob() gives up after a second 401", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  fake.script("run", { status: 401, message: "Request had invalid authentication credentials." });
  fake.script("run", { status: 401, message: "Request had invalid authentication credentials." });
  await assert.rejects(() => client.runJob({ credential, ...job }), (error: unknown) => {
    assert.ok(error instanceof GcpError);
    assert.equal(error.category, "auth");
    assert.equal(error.status, 401);
    return true;
  });
  assert.equal(fake.runRequests, 2);
  assert.equal(fake.tokenRequests, 2);
});

Deno.test("runJob() turns a 403 into a permanent error carrying Google's message", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  const message = "Permission 'run.jobs.runWithOverrides' denied on resource " +
    "'projects/hibiki-test/locations/asia-northeast1/jobs/resume-job' (or resource may not exist).";
  fake.script("run", { status: 403, message });
  await assert.rejects(() => client.runJob({ credential, ...job }), (error: unknown) => {
    assert.ok(error instanceof GcpError);
    assert.equal(error.category, "forbidden");
    assert.equal(error.retryable, false);
    assert.equal(error.googleStatus, "PERMISSION_DENIED");
    assert.equal(error.message, `Cannot run Cloud Run job "resume-job": ${message}`);
    return true;
  });
});

Deno.test("runJob() reports an unknown job as a permanent not-found error", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential } = gcp;
  await assert.rejects(
    () => client.runJob({ credential, ...job, job: "no-such-job" }),
    (error: unknown) =>
      error instanceof GcpError && error.category === "not_found" && !error.retryable,
  );
});

Deno.test("runJob() makes 429 and 5xx retryable and reads Retry-After", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  fake.script("run", { status: 429, message: "Quota exceeded", retryAfter: "7" });
  await assert.rejects(() => client.runJob({ credential, ...job }), (error: unknown) => {
    assert.ok(error instanceof GcpError);
    assert.equal(error.category, "rate_limited");
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 7000);
    return true;
  });
  fake.script("run", { status: 500, message: "Internal error" });
  await assert.rejects(
    () => client.runJob({ credential, ...job }),
    (error: unknown) =>
      error instanceof GcpError && error.category === "unavailable" && error.retryable,
  );
  assert.equal(fake.executions.length, 0);
});

Deno.test("runJob() reports a run whose answer never comes as an unknown outcome", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  fake.script("run", "hang");
  await assert.rejects(
    () => client.runJob({ credential, ...job, timeoutMs: 150 }),
    (error: unknown) => {
      assert.ok(error instanceof GcpError);
      assert.equal(error.category, "unknown_outcome");
      assert.match(error.message, /no answer within 150 ms; the request may have taken effect/);
      return true;
    },
  );
  assert.equal(fake.executions.length, 1, "Google did start it");
});

Deno.test("runJob() refuses a target that would escape its path", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  await assert.rejects(() => client.runJob({ credential, ...job, job: "../../x" }), /job/);
  await assert.rejects(
    () => client.getExecution(credential, "projects/x/../../token"),
    /execution/,
  );
  assert.equal(fake.runRequests, 0);
});

Deno.test("getExecution() reads counts, logUri and conditions of a finished execution", async () => {
  await using gcp = await startGcpHarness({ job: { pollsToComplete: 2, taskCount: 3 } });
  const { client, credential } = gcp;
  const { executionName } = await client.runJob({ credential, ...job });
  const running = await client.getExecution(credential, executionName);
  assert.equal(running.done, false);
  assert.equal(running.state, "running");
  assert.equal(running.runningCount, 3);
  assert.equal(running.succeededCount, 0, "absent in proto3 JSON, read as 0");
  const done = await client.getExecution(credential, executionName);
  assert.equal(done.done, true);
  assert.equal(done.succeeded, true);
  assert.equal(done.state, "succeeded");
  assert.equal(done.succeededCount, 3);
  assert.equal(done.failedCount, 0);
  assert.equal(done.taskCount, 3);
  assert.match(done.logUri ?? "", /^https:\/\/console\.cloud\.google\.com\/logs/);
  assert.ok(done.completionTime);
  assert.deepEqual(done.conditions.find((c) => c.type === "Completed"), {
    type: "Completed",
    state: "CONDITION_SUCCEEDED",
    reason: null,
    message: "Execution completed successfully",
  });
});

Deno.test("toExecutionStatus() decides done and succeeded from the Completed condition first", () => {
  const name = "projects/p-1234/locations/us-central1/jobs/j/executions/j-abcde";
  const base = {
    name,
    succeededCount: 0,
    failedCount: 0,
    cancelledCount: 0,
    runningCount: 0,
    retriedCount: 0,
    taskCount: 1,
    conditions: [],
  };
  const pending = toExecutionStatus(base);
  assert.equal(pending.done, false);
  assert.equal(pending.state, "pending");

  const failed = toExecutionStatus({
    ...base,
    failedCount: 1,
    conditions: [{
      type: "Completed",
      state: "CONDITION_FAILED",
      executionReason: "NON_ZERO_EXIT_CODE",
      message: "Task j-abcde-task0 failed with exit code 1",
    }],
  });
  assert.deepEqual([failed.done, failed.succeeded, failed.state], [true, false, "failed"]);
  assert.equal(failed.conditions[0].reason, "NON_ZERO_EXIT_CODE");

  const cancelled = toExecutionStatus({
    ...base,
    cancelledCount: 1,
    conditions: [{ type: "Completed", state: "CONDITION_FAILED", executionReason: "CANCELLED" }],
  });
  assert.equal(cancelled.state, "cancelled");

  // completionTime without a terminal condition yet: the counts decide.
  const counted = toExecutionStatus({
    ...base,
    succeededCount: 1,
    completionTime: "2025-01-15T09:31:00Z",
    conditions: [{ type: "Completed", state: "CONDITION_RECONCILING" }],
  });
  assert.deepEqual([counted.done, counted.succeeded, counted.state], [true, true, "succeeded"]);
});

Deno.test("listRecentExecutions() lists newest first with their env, across pages, down to since", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  for (let i = 0; i < 5; i++) {
    await client.runJob({
      credential,
      ...job,
      overrides: { env: [{ name: "HIBIKI_FIRE_ID", value: `fire-${i}` }] },
    });
  }
  const listed = await client.listRecentExecutions({
    credential,
    ...job,
    since: Date.now() - 60_000,
    pageSize: 2,
  });
  assert.deepEqual(
    listed.map((e) => e.env.find((v) => v.name === "HIBIKI_FIRE_ID")?.value),
    ["fire-4", "fire-3", "fire-2", "fire-1", "fire-0"],
  );
  assert.deepEqual(listed.map((e) => e.name), fake.executions.map((e) => e.name).reverse());
  const none = await client.listRecentExecutions({
    credential,
    ...job,
    since: Date.now() + 60_000,
  });
  assert.deepEqual(none, []);
});

Deno.test("waitForExecution() polls through a 503 until the execution is done", async () => {
  await using gcp = await startGcpHarness({ job: { pollsToComplete: 3 } });
  const { client, credential, fake } = gcp;
  const { executionName } = await client.runJob({ credential, ...job });
  fake.script("get", { status: 503, message: "The service is currently unavailable." });
  const seen: string[] = [];
  const final = await client.waitForExecution(credential, executionName, {
    pollDelays: [1, 2],
    onStatus: (status) => seen.push(status.state),
  });
  assert.equal(final.state, "succeeded");
  assert.deepEqual(seen, ["running", "running", "succeeded"]);
});

Deno.test("waitForExecution() stops when its signal aborts", async () => {
  await using gcp = await startGcpHarness({ job: { pollsToComplete: 1_000_000 } });
  const { client, credential } = gcp;
  const { executionName } = await client.runJob({ credential, ...job });
  await assert.rejects(
    () =>
      client.waitForExecution(credential, executionName, {
        signal: AbortSignal.timeout(100),
        pollDelays: [5],
      }),
    (error: unknown) => error instanceof DOMException && error.name === "TimeoutError",
  );
});
