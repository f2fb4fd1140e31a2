import assert from "node:assert/strict";
import { ValidationError } from "../errors.ts";
import {
  type CloudRunFireOptions,
  FIRE_ID_ENV,
  parseCloudRunTarget,
  runCloudRunFire,
} from "./run_cloud_run_job.ts";
import { type GcpHarness, JOB, PROJECT, REGION, startGcpHarness } from "./test_support.ts";

const target = parseCloudRunTarget({
  project: PROJECT,
  region: REGION,
  job: JOB,
  overrides: { env: [{ name: "RESUME_USERNAME", value: "octocat" }], timeout: "3600s" },
});

function fire(gcp: GcpHarness, options: Partial<CloudRunFireOptions> = {}) {
  return runCloudRunFire({
    client: gcp.client,
    credential: gcp.credential,
    target,
    fireId: "run-1",
    deadlineMs: 5_000,
    pollDelays: [1, 2, 4],
    retryDelays: [10, 20],
    ...options,
  });
}

Deno.test("runCloudRunFire() reports an execution that succeeds, with counts and logUri", async () => {
  await using gcp = await startGcpHarness({ job: { taskCount: 2, pollsToComplete: 3 } });
  const result = await fire(gcp);
  assert.equal(result.success, true);
  assert.equal(result.code, 200);
  assert.equal(result.error, null);
  assert.equal(result.execution?.name, gcp.fake.executions[0].name);
  assert.equal(result.execution?.status, "succeeded");
  assert.equal(result.execution?.succeededCount, 2);
  assert.equal(result.execution?.failedCount, 0);
  assert.match(result.execution?.logUri ?? "", /^https:\/\/console\.cloud\.google\.com\//);
  assert.ok(result.durationMs >= 0);
  // The fire id travels with the target's own env, so the run can be found again.
  assert.deepEqual(gcp.fake.executions[0].env, [
    { name: "RESUME_USERNAME", value: "octocat" },
    { name: FIRE_ID_ENV, value: "run-1" },
  ]);
  assert.equal(gcp.fake.executions[0].timeout, "3600s");
});

Deno.test("runCloudRunFire() reports an execution that fails as a failure", async () => {
  await using gcp = await startGcpHarness({ job: { outcome: "fail" } });
  const result = await fire(gcp);
  assert.equal(result.success, false);
  assert.equal(result.code, 200);
  assert.equal(result.execution?.status, "failed");
  assert.equal(result.execution?.failedCount, 1);
  assert.equal(result.error?.category, "execution_failed");
  assert.match(
    result.error?.message ?? "",
    /^Cloud Run execution resume-job-\w{5} failed \(1 of 1 tasks failed\): Task .* exit code 1$/,
  );
});

Deno.test("runCloudRunFire() turns a 403 into a permanent error with Google's message", async () => {
  await using gcp = await startGcpHarness();
  gcp.fake.script("run", { status: 403, message: "Permission 'run.jobs.run' denied" });
  const result = await fire(gcp);
  assert.equal(result.success, false);
  assert.equal(result.code, 403);
  assert.equal(result.execution, null);
  assert.deepEqual(result.error, {
    category: "forbidden",
    message: `Cannot run Cloud Run job "resume-job": Permission 'run.jobs.run' denied`,
  });
  assert.equal(gcp.fake.runRequests, 1, "a permanent error is not retried");
});

Deno.test("runCloudRunFire() adopts the execution found by listing when jobs:run hangs, never starting a second", async () => {
  await using gcp = await startGcpHarness();
  gcp.fake.script("run", "hang");
  const result = await fire(gcp, { runTimeoutMs: 150 });
  assert.equal(result.success, true);
  assert.equal(result.execution?.name, gcp.fake.executions[0].name);
  assert.equal(gcp.fake.runRequests, 1);
  assert.equal(gcp.fake.executions.length, 1);
});

Deno.test("runCloudRunFire() ignores another fire's execution when looking after an unknown outcome", async () => {
  await using gcp = await startGcpHarness();
  await fire(gcp, { fireId: "run-0" });
  // This time Google never got the run: the request is refused before it reaches the job.
  gcp.fake.script("run", { status: 500, message: "Internal error" });
  const result = await fire(gcp, { fireId: "run-1" });
  assert.equal(result.success, true);
  assert.equal(gcp.fake.executions.length, 2);
  assert.equal(result.execution?.name, gcp.fake.executions[1].name);
  assert.equal(gcp.fake.runRequests, 3);
});

Deno.test("runCloudRunFire() with checkExisting adopts an execution a crashed attempt started", async () => {
  await using gcp = await startGcpHarness();
  const first = await fire(gcp);
  const again = await fire(gcp, { checkExisting: true });
  assert.equal(again.success, true);
  assert.equal(again.execution?.name, first.execution?.name);
  assert.equal(gcp.fake.runRequests, 1);
});

Deno.test("runCloudRunFire() waits out a 429 and runs once Google allows it", async () => {
  await using gcp = await startGcpHarness();
  gcp.fake.script("run", { status: 429, message: "Quota exceeded" });
  const result = await fire(gcp);
  assert.equal(result.success, true);
  assert.equal(gcp.fake.runRequests, 2);
  assert.equal(gcp.fake.executions.length, 1);
});

Deno.test("runCloudRunFire() reports unknown_outcome, not a second run, when listing fails too", async () => {
  await using gcp = await startGcpHarness();
  gcp.fake.script("run", "hang");
  gcp.fake.script("list", { status: 403, message: "Permission 'run.executions.list' denied" });
  const result = await fire(gcp, { runTimeoutMs: 150 });
  assert.equal(result.success, false);
  assert.equal(result.code, 0);
  assert.equal(result.error?.category, "unknown_outcome");
  assert.match(
    result.error?.message ?? "",
    /cannot check whether it started: .*run\.executions\.list/,
  );
  assert.equal(gcp.fake.runRequests, 1);
});

Deno.test("runCloudRunFire() reports a timeout when the execution outlasts the deadline", async () => {
  await using gcp = await startGcpHarness({ job: { pollsToComplete: 1_000_000 } });
  const result = await fire(gcp, { deadlineMs: 200, pollDelays: [5] });
  assert.equal(result.success, false);
  assert.equal(result.error?.category, "timeout");
  assert.match(result.error?.message ?? "", /still running: deadline of 200 ms passed/);
  assert.equal(result.execution?.status, "running");
});

Deno.test("parseCloudRunTarget() names the bad field and reserves the fire id variable", () => {
  assert.throws(
    () =>
      parseCloudRunTarget({ ...target, overrides: { env: [{ name: FIRE_ID_ENV, value: "x" }] } }),
    (error: unknown) =>
      error instanceof ValidationError && error.field === "overrides" &&
      /overrides\.env\.0\.name is reserved/.test(error.message),
  );
  assert.throws(
    () => parseCloudRunTarget({ ...target, overrides: { timeout: "1h" } }),
    /overrides\.timeout must be seconds like "3600s"/,
  );
  assert.throws(() => parseCloudRunTarget({ ...target, region: "Tokyo" }), /region/);
  assert.throws(() => parseCloudRunTarget({ ...target, extra: 1 }), /^.*Unknown field "extra"$/);
  assert.throws(
    () => parseCloudRunTarget({ ...target, overrides: { containerOverrides: [] } }),
    (error: unknown) =>
      error instanceof ValidationError && error.field === "overrides" &&
      error.message.startsWith('overrides has an unknown field "containerOverrides": '),
  );
});
