import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { KvJobStatsStore } from "../store/kv/stats.ts";
import { JobStats } from "./job_stats.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

Deno.test("stop() saves what was observed while a flush was already under way", async () => {
  const kv = await Deno.openKv(":memory:");
  const stats = new JobStats(new KvJobStatsStore(kv), new ManualClock(T0));
  const sample = { at: T0, ok: true, latencyMs: 20, lateMs: 1 };
  stats.observe("u", "job", sample);
  const first = stats.flush();
  stats.observe("u", "job", sample);
  stats.observe("u", "job", { ...sample, ok: false });
  await stats.stop();
  await first;
  const summary = (await stats.summaries("u", ["job"])).get("job")!;
  assert.equal(summary.runs, 3);
  kv.close();
});

Deno.test("summaries() count runs observed here since the last flush, and once after it", async () => {
  const kv = await Deno.openKv(":memory:");
  const stats = new JobStats(new KvJobStatsStore(kv), new ManualClock(T0));
  stats.observe("u", "job", { at: T0, ok: true, latencyMs: 20, lateMs: 1 });
  await stats.flush();
  stats.observe("u", "job", { at: T0 + 1000, ok: false, latencyMs: 300, lateMs: 2 });
  const before = await stats.summaries("u", ["job", "other"]);
  assert.equal(before.get("job")!.runs, 2);
  assert.equal(before.get("job")!.successRate, 0.5);
  assert.equal(before.get("job")!.p95LatencyMs, 500);
  assert.equal(before.get("other")!.runs, 0);
  // Another owner's job of the same id is another job.
  assert.equal((await stats.summaries("v", ["job"])).get("job")!.runs, 0);
  await stats.flush();
  assert.equal((await stats.summaries("u", ["job"])).get("job")!.runs, 2);
  kv.close();
});
