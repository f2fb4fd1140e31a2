import assert from "node:assert/strict";
import { ManualClock } from "../../clock.ts";
import type { RunCompletion } from "../store.ts";
import type { Run } from "../types.ts";
import { unpackTally } from "./job_tally.ts";
import { kvKeys } from "./keys.ts";
import { KvStore } from "./kv_store.ts";

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

function completion(at: number, where: string): RunCompletion {
  const run: Run = {
    id: `${at}-${where}`,
    jobId: "job-1",
    userId: "default",
    where,
    trigger: "AUTO",
    status: "success",
    code: 200,
    scheduledAt: new Date(at).toISOString(),
    startedAt: new Date(at).toISOString(),
    finishedAt: new Date(at + 10).toISOString(),
    durationMs: 10,
    lateMs: null,
    response: null,
    error: null,
    failure: null,
  };
  return { run, scheduledAt: at, suffix: where, lease: null, runsStored: 0, counts: true };
}

Deno.test("KvStore.recordRun() writes and counts a run recorded twice at once only once", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = new KvStore(kv, {
    clock: new ManualClock(T0),
    retention: { count: 1000, maxAgeMs: 1e12 },
  });
  // Two commits in flight first, so the two copies wait together and share the next one.
  const copy = completion(T0, "aws-tyo1a");
  const written = await Promise.all([
    store.recordRun(completion(T0 - 2000, "aws-tyo1a")),
    store.recordRun(completion(T0 - 1000, "aws-tyo1a")),
    store.recordRun(copy),
    store.recordRun(structuredClone(copy)),
  ]);
  assert.deepEqual(written.slice(2).sort(), [false, true]);
  const tally = await kv.get<Uint8Array>(kvKeys.jobTally("default", "job-1"));
  assert.equal(unpackTally(tally.value).count, 3);
});

Deno.test("KvStore.recordRun() keeps every run in the latest results when two processes write them", async () => {
  await using kv = await Deno.openKv(":memory:");
  const options = { clock: new ManualClock(T0), retention: { count: 1000, maxAgeMs: 1e12 } };
  // Two stores on one database, as two processes: each remembers what it wrote last.
  const here = new KvStore(kv, options);
  const there = new KvStore(kv, options);
  const times = Array.from({ length: 12 }, (_, i) => T0 + i * 1000);
  for (const [i, at] of times.entries()) {
    const writer = i % 3 === 0 ? there : here;
    assert.equal(await writer.recordRun(completion(at, "local")), true);
  }
  // A copy of a run already written by the other process is refused, not appended.
  assert.equal(await here.recordRun(completion(times[9], "local")), false);
  const [summary] = await here.jobSummaries("default", ["job-1"]);
  assert.deepEqual(summary.recent.map((r) => r.at), times);
});
