import assert from "node:assert/strict";
import { expectStatus, okProbe, TestSystem } from "./helpers.ts";

Deno.test("DELETE /api/deliveries/:id removes a delivery and its queued attempt", async () => {
  await using t = await TestSystem.start({
    probe: () => ({ ...okProbe(), success: false, code: 503, failure: "Expected 2xx, got 503" }),
  });
  const job = await t.createJob();
  expectStatus(
    await t.call("POST", "/api/webhooks", {
      body: { jobId: job.id, endpoint: "https://example.com/hook" },
    }),
    201,
  );
  const sent = await t.call<{ id: string }>("POST", `/api/webhooks/${job.id}/test`);
  await t.settle();
  const id = sent.body.data.id;
  const before = await t.call<{ state: string; nextAttemptAt: string | null }>(
    "GET",
    `/api/deliveries/${id}`,
  );
  assert.equal(before.body.data.state, "pending");
  expectStatus(await t.call("DELETE", `/api/deliveries/${id}`), 200);
  expectStatus(await t.call("GET", `/api/deliveries/${id}`), 404);
  let queued = 0;
  for await (const _ of t.kv.list({ prefix: ["delivery_due"] })) queued++;
  assert.equal(queued, 0);
  expectStatus(await t.call("DELETE", `/api/deliveries/${id}`), 404);
});

Deno.test("a worker's last_seen_at moves on every edge call", async () => {
  await using t = await TestSystem.start({ env: { PINGMON_WORKER_API_KEY: "k".repeat(20) } });
  expectStatus(await t.call("POST", "/api/workers", { body: { id: "aws-tyo1a" } }), 201);
  const seen = async () =>
    (await t.call<{ last_seen_at: string | null }[]>("GET", "/api/workers")).body.data[0]
      .last_seen_at;
  assert.equal(await seen(), null);
  for (const advance of [0, 1000]) {
    t.clock.advance(advance);
    const response = await t.system.app.request("/functions/v1/get-monitors-to-check", {
      method: "POST",
      headers: { "X-Pingmon-API-Key": "k".repeat(20), "Content-Type": "application/json" },
      body: JSON.stringify({ worker_id: "aws-tyo1a" }),
    });
    await response.body?.cancel();
    assert.equal(await seen(), new Date(t.clock.now()).toISOString());
  }
});
