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
