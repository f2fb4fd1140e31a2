/**
 * Seed 002's edge functions answer with the seed's exact status codes and bodies, and store
 * results as runs of the monitor's job, once.
 */
import assert from "node:assert/strict";
import type { JobView } from "../lib/store/types.ts";
import { type StoreKind, storeTest, T0, TestSystem } from "./helpers.ts";
import { callEdge, checkResult } from "./edge_support.ts";

const WORKER_KEY = "edge-test-worker-key-0123456789";

function edge(t: TestSystem, name: string, body: unknown, key: string | null = WORKER_KEY) {
  return callEdge(t, name, body, key);
}

async function setUp(store?: StoreKind): Promise<{ t: TestSystem; monitor: JobView }> {
  const t = await TestSystem.start({ store, env: { PINGMON_WORKER_API_KEY: WORKER_KEY } });
  for (const id of ["aws-tyo1a", "gcp-tyo1a", "azure-tyo1"]) {
    assert.equal((await t.call("POST", "/api/workers", { body: { id } })).status, 201);
  }
  const monitor = await t.createJob({
    name: "API Health Check",
    // Any case and unit spelling the schedule parser takes: "@EVERY 5m" is 300 s.
    schedule: "@EVERY 5m",
    headers: { "User-Agent": "Pingmon/1.0" },
    expect: { status: 200, bodyContains: "ok" },
    timeoutMs: 30_000,
    workers: [{ workerId: "aws-tyo1a" }, { workerId: "gcp-tyo1a" }, { workerId: "azure-tyo1" }],
  });
  return { t, monitor };
}

const result = checkResult;

storeTest(
  "get-monitors-to-check returns every field of the seed's table for the worker",
  async (store) => {
    const { t, monitor } = await setUp(store);
    await using _ = t;
    const answer = await edge(t, "get-monitors-to-check", { worker_id: "gcp-tyo1a" });
    assert.equal(answer.status, 200);
    const assignment = monitor.workers.find((w) => w.workerId === "gcp-tyo1a")!;
    assert.deepEqual(answer.body, {
      success: true,
      data: {
        worker_id: "gcp-tyo1a",
        monitors: [{
          monitor_id: monitor.id,
          name: "API Health Check",
          url: "https://example.com/",
          method: "GET",
          headers: { "User-Agent": "Pingmon/1.0" },
          body: null,
          timeout_seconds: 30,
          expected_status_code: 200,
          expected_body_contains: "ok",
          check_minute: assignment.checkMinute,
          check_second: assignment.checkSecond,
          check_interval_seconds: 300,
        }],
      },
    });
  },
);

Deno.test("three workers on 300 s are spread 100 s apart", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const offsets = monitor.workers.map((w) => w.checkMinute * 60 + w.checkSecond);
  const sorted = [...offsets].sort((a, b) => a - b);
  assert.deepEqual([sorted[1] - sorted[0], sorted[2] - sorted[1]], [100, 100]);
});

Deno.test("get-monitors-to-check answers the seed's errors word for word", async () => {
  const { t } = await setUp();
  await using _ = t;
  assert.deepEqual(await edge(t, "get-monitors-to-check", { worker_id: "aws-tyo1a" }, null), {
    status: 401,
    body: { success: false, error: { code: "UNAUTHORIZED", message: "Invalid API key" } },
  });
  assert.deepEqual(await edge(t, "get-monitors-to-check", { worker_id: "x" }, "wrong-key"), {
    status: 401,
    body: { success: false, error: { code: "UNAUTHORIZED", message: "Invalid API key" } },
  });
  assert.deepEqual(await edge(t, "get-monitors-to-check", {}), {
    status: 400,
    body: { success: false, error: { code: "INVALID_REQUEST", message: "worker_id is required" } },
  });
  assert.deepEqual(await edge(t, "get-monitors-to-check", { worker_id: "mars-1" }), {
    status: 404,
    body: { success: false, error: { code: "WORKER_NOT_FOUND", message: "Worker not found" } },
  });
  await t.call("PATCH", "/api/workers/azure-tyo1", { body: { is_active: false } });
  assert.deepEqual(await edge(t, "get-monitors-to-check", { worker_id: "azure-tyo1" }), {
    status: 403,
    body: { success: false, error: { code: "WORKER_INACTIVE", message: "Worker is not active" } },
  });
});

Deno.test("get-monitors-to-check leaves out disabled monitors and answers [] when none", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  await t.call("PATCH", `/api/jobs/${monitor.id}`, { body: { enabled: false } });
  const answer = await edge(t, "get-monitors-to-check", { worker_id: "aws-tyo1a" });
  assert.deepEqual(answer.body, { success: true, data: { worker_id: "aws-tyo1a", monitors: [] } });
});

Deno.test("batch-save-results answers the seed's errors word for word", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  assert.deepEqual(await edge(t, "batch-save-results", { check_results: [] }, null), {
    status: 401,
    body: { error: "Unauthorized" },
  });
  for (const body of [{}, { check_results: [] }, { check_results: "x" }]) {
    assert.deepEqual(await edge(t, "batch-save-results", body), {
      status: 400,
      body: { error: "check_results must be a non-empty array" },
    });
  }
  const many = Array.from({ length: 1001 }, () => result(monitor.id));
  assert.deepEqual(await edge(t, "batch-save-results", { check_results: many }), {
    status: 400,
    body: { error: "Too many results. Maximum 1000 per request." },
  });
  for (const missing of ["monitor_id", "worker_id", "success"]) {
    const item: Record<string, unknown> = result(monitor.id);
    delete item[missing];
    const answer = await edge(t, "batch-save-results", { check_results: [item] });
    assert.equal(answer.status, 400);
    assert.equal(
      answer.body.error,
      "Invalid check_result format. Required: monitor_id, worker_id, success",
    );
  }
  for (
    const bad of [{ monitor_id: "not-a-uuid" }, { checked_at: "yesterday" }, { success: "yes" }]
  ) {
    const answer = await edge(t, "batch-save-results", {
      check_results: [result(monitor.id, bad)],
    });
    assert.equal(answer.status, 400, JSON.stringify(bad));
  }
  // Over 8 MiB without a Content-Length (a streamed body): refused, not read to the end.
  const chunk = new TextEncoder().encode(" ".repeat(1024 * 1024));
  let sent = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent++;
      controller.enqueue(chunk);
    },
  });
  const streamed = await t.system.app.request("/functions/v1/batch-save-results", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Pingmon-API-Key": WORKER_KEY },
    body: endless,
  });
  assert.equal(streamed.status, 400);
  assert.deepEqual(await streamed.json(), { error: "check_results must be a non-empty array" });
  assert.ok(sent <= 12, `read ${sent} MiB`);
});

storeTest(
  "batch-save-results stores results as runs of the job, once per batch sent twice",
  async (store) => {
    const { t, monitor } = await setUp(store);
    await using _ = t;
    const batch = {
      check_results: [
        result(monitor.id),
        result(monitor.id, {
          worker_id: "gcp-tyo1a",
          success: false,
          status_code: null,
          error_message: "Timed out after 30000 ms",
        }),
      ],
    };
    assert.deepEqual(await edge(t, "batch-save-results", batch), {
      status: 200,
      body: { success: true, inserted: 2 },
    });
    assert.deepEqual((await edge(t, "batch-save-results", batch)).body, {
      success: true,
      inserted: 2,
    });
    await t.system.lanes.results.drain();
    await t.settle();
    for (let i = 0; i < 50 && t.system.lanes.results.active > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const runs = (await t.call<{ where: string; status: string; code: number }[]>(
      "GET",
      `/api/jobs/${monitor.id}/runs`,
    )).body.data;
    assert.deepEqual(runs.map((r) => [r.where, r.status, r.code]).sort(), [
      ["aws-tyo1a", "success", 200],
      ["gcp-tyo1a", "failure", 0],
    ]);
    const job = (await t.call<JobView>("GET", `/api/jobs/${monitor.id}`)).body.data;
    assert.equal(job.count, 2);
    const workers = (await t.call<{ id: string; last_seen_at: string | null }[]>(
      "GET",
      "/api/workers",
    )).body.data;
    assert.ok(workers.find((w) => w.id === "aws-tyo1a")?.last_seen_at);
  },
);

storeTest(
  "a batch with several results of one job stores each once and decides them oldest first",
  async (store) => {
    const { t } = await setUp(store);
    await using _ = t;
    const solo = await t.createJob({
      name: "Checked from Tokyo",
      schedule: "@every 1m",
      local: false,
      workers: [{ workerId: "aws-tyo1a" }],
      alerts: { failureThreshold: 2, successThreshold: 1 },
    });
    const at = (minutes: number) => new Date(T0 - minutes * 60_000).toISOString();
    const failing = { success: false, status_code: 503, error_message: "Expected 200, got 503" };
    // Newest first, one repeated: down after the second failure, up again after the success.
    const results = [
      result(solo.id, { checked_at: at(1) }),
      result(solo.id, { ...failing, checked_at: at(2) }),
      result(solo.id, { ...failing, checked_at: at(3) }),
      result(solo.id, { ...failing, checked_at: at(3) }),
    ];
    for (let i = 0; i < 2; i++) {
      const answer = await edge(t, "batch-save-results", { check_results: results });
      assert.deepEqual(answer.body, { success: true, inserted: 3 });
      await t.settle();
    }
    const runs = (await t.call<{ id: string; status: string }[]>(
      "GET",
      `/api/jobs/${solo.id}/runs`,
    )).body.data;
    assert.deepEqual(runs.map((r) => [r.id, r.status]), [
      [`${T0 - 60_000}-aws-tyo1a`, "success"],
      [`${T0 - 120_000}-aws-tyo1a`, "failure"],
      [`${T0 - 180_000}-aws-tyo1a`, "failure"],
    ]);
    const job = (await t.call<JobView>("GET", `/api/jobs/${solo.id}`)).body.data;
    assert.equal(job.count, 3);
    assert.equal(job.lastRunAt, at(1));
    const incidents = (await t.call<{ state: string; startedAt: string; endedAt: string }[]>(
      "GET",
      `/api/incidents?jobId=${solo.id}`,
    )).body.data;
    // Opened by the second failure's interval, resolved by the success's (interval starts).
    assert.deepEqual(incidents.map((i) => i.state), ["resolved"]);
    const { startedAt, endedAt } = incidents[0];
    assert.equal(Date.parse(endedAt) - Date.parse(startedAt), 120_000);
  },
);

storeTest("workers' results of a job with a webhook each get their delivery", async (store) => {
  const { t, monitor } = await setUp(store);
  await using _ = t;
  assert.equal(
    (await t.call("POST", "/api/webhooks", {
      body: { jobId: monitor.id, endpoint: "https://example.com/hook" },
    })).status,
    201,
  );
  const batch = {
    check_results: [result(monitor.id), result(monitor.id, { worker_id: "gcp-tyo1a" })],
  };
  assert.equal((await edge(t, "batch-save-results", batch)).status, 200);
  await t.system.lanes.results.drain();
  await t.settle();
  for (let i = 0; i < 50 && t.system.lanes.results.active > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await t.settle();
  const deliveries = (await t.call<{ runId: string; state: string }[]>(
    "GET",
    `/api/webhooks/${monitor.id}/deliveries`,
  )).body.data;
  assert.deepEqual(deliveries.map((d) => d.runId).sort(), [`${T0}-aws-tyo1a`, `${T0}-gcp-tyo1a`]);
  assert.ok(deliveries.every((d) => d.state === "succeeded"));
});

Deno.test("a job's workers need an interval schedule of at most an hour and known workers", async () => {
  const { t } = await setUp();
  await using _ = t;
  for (
    const [body, message] of [
      [{ schedule: "*/5 * * * *", workers: [{ workerId: "aws-tyo1a" }] }, "interval schedule"],
      [{ schedule: "@every 2h", workers: [{ workerId: "aws-tyo1a" }] }, "at most 1 hour"],
      [{ schedule: "@every 5m", workers: [{ workerId: "mars-1" }] }, "unknown worker"],
      [
        {
          schedule: "@every 60s",
          workers: [{ workerId: "aws-tyo1a", checkMinute: 2, checkSecond: 0 }],
        },
        "beyond",
      ],
    ] as const
  ) {
    const answer = await t.call<unknown>("POST", "/api/jobs", {
      body: { name: "m", url: "https://example.com/", ...body },
    });
    assert.equal(answer.status, 400, JSON.stringify(body));
    const error = (answer.body as unknown as { error: { field: string; message: string } }).error;
    assert.equal(error.field, "workers");
    assert.ok(error.message.includes(message), error.message);
  }
});
