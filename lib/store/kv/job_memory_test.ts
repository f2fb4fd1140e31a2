import assert from "node:assert/strict";
import { ManualClock } from "../../clock.ts";
import type { JobAlertState } from "../../alerts/types.ts";
import type { RunCompletion } from "../store.ts";
import type { Job, Run } from "../types.ts";
import { KvAlertStore } from "./alerts.ts";
import { jobMemoryOf, POLL_MS } from "./job_memory.ts";
import { KvStore } from "./kv_store.ts";
import { KvWebhookStore } from "./webhooks.ts";
import { putJob } from "../../scheduler/test_support.ts";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const RETENTION = { count: 1000, maxAgeMs: 1e12 };

function completion(job: Job, at: number, runsStored = 0): RunCompletion {
  const run: Run = {
    id: `${at}-local`,
    jobId: job.id,
    userId: job.userId,
    where: "local",
    trigger: "AUTO",
    status: "success",
    code: 200,
    scheduledAt: new Date(at).toISOString(),
    startedAt: new Date(at).toISOString(),
    finishedAt: new Date(at + 10).toISOString(),
    durationMs: 10,
    lateMs: 0,
    response: null,
    error: null,
    failure: null,
  };
  return { run, scheduledAt: at, suffix: "local", lease: null, runsStored, counts: true };
}

function upState(job: Job, successes: number): JobAlertState {
  return {
    userId: job.userId,
    jobId: job.id,
    state: "up",
    failures: 0,
    successes,
    incidentId: null,
    decidedThrough: T0 + successes,
    since: T0,
    streakSince: T0,
    verdict: "pass",
  };
}

/** A KV handle that counts its reads of keys (`get`, `getMany`). */
function countingReads(kv: Deno.Kv): { kv: Deno.Kv; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property === "get" || property === "getMany") {
        return (...args: unknown[]) => {
          reads++;
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { kv: counted, reads: () => reads };
}

Deno.test("a run of a job unchanged since this process wrote its last run reads nothing", async () => {
  await using raw = await Deno.openKv(":memory:");
  const { kv, reads } = countingReads(raw);
  const store = new KvStore(kv, { clock: new ManualClock(T0), retention: RETENTION });
  const job = await putJob(store, T0, { url: "http://127.0.0.1:9/a", schedule: "@every 20s" });
  const first = await store.getJobForRun(job.userId, job.id);
  assert.equal(first?.count, 0);
  assert.equal(await store.recordRun(completion(job, T0)), true);
  const before = reads();
  const second = await store.getJobForRun(job.userId, job.id);
  assert.equal(reads(), before, "the second run's job came from memory");
  assert.equal(second?.count, 1);
  assert.equal(second?.runsStored, 1);
  assert.equal(second?.lastRunAt, T0);
  // What is remembered agrees with what is stored.
  const stored = await new KvStore(raw, { retention: RETENTION }).getJob(job.userId, job.id);
  assert.deepEqual([stored?.count, stored?.lastRunAt], [1, T0]);
});

Deno.test("a change to a job, its webhook or its alert state in this process is seen by its next run", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = new KvStore(kv, { clock: new ManualClock(T0), retention: RETENTION });
  const job = await putJob(store, T0, { url: "http://127.0.0.1:9/a", schedule: "@every 20s" });
  await store.getJobForRun(job.userId, job.id);
  await store.updateJob(job.userId, job.id, (j) => ({
    job: { ...j, url: "http://127.0.0.1:9/b" },
    firstFireAt: undefined,
  }));
  assert.equal((await store.getJobForRun(job.userId, job.id))?.job.url, "http://127.0.0.1:9/b");

  await new KvWebhookStore(kv).create({
    id: "wh_1",
    userId: job.userId,
    jobId: job.id,
    endpoint: "http://127.0.0.1:9/hook",
    headers: null,
    secret: "sealed",
    previousSecrets: [],
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
  });
  assert.equal((await store.getJobForRun(job.userId, job.id))?.webhook?.id, "wh_1");

  const remembered = await store.getJobForRun(job.userId, job.id);
  const next = upState(job, 1);
  assert.equal(
    await new KvAlertStore(kv).decide({ current: remembered!.alertState!, next, settle: [] }),
    true,
  );
  assert.deepEqual((await store.getJobForRun(job.userId, job.id))?.alertState?.state, next);
});

Deno.test("a change made by another process is seen once the change log is read, within POLL_MS", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    await using here = await Deno.openKv(path);
    await using there = await Deno.openKv(path);
    let now = Date.now();
    jobMemoryOf(here, () => now);
    const store = new KvStore(here, { clock: new ManualClock(T0), retention: RETENTION });
    const other = new KvStore(there, { clock: new ManualClock(T0), retention: RETENTION });
    const job = await putJob(store, T0, { url: "http://127.0.0.1:9/a", schedule: "@every 20s" });
    assert.equal((await store.getJobForRun(job.userId, job.id))?.job.url, job.url);
    await other.updateJob(job.userId, job.id, (j) => ({
      job: { ...j, url: "http://127.0.0.1:9/b" },
      firstFireAt: undefined,
    }));
    // Until the log is read again, this process may run the job as it knew it.
    assert.equal(store.remembersJob(job.userId, job.id), true);
    assert.equal((await store.getJobForRun(job.userId, job.id))?.job.url, job.url);
    now += POLL_MS;
    assert.equal((await store.getJobForRun(job.userId, job.id))?.job.url, "http://127.0.0.1:9/b");
    // Not read for longer than the log keeps its entries: everything is read afresh.
    await other.updateJob(job.userId, job.id, (j) => ({
      job: { ...j, url: "http://127.0.0.1:9/c" },
      firstFireAt: undefined,
    }));
    now += 10 * 60_000;
    assert.equal(store.remembersJob(job.userId, job.id), false, "a read would not be trusted");
    assert.equal((await store.getJobForRun(job.userId, job.id))?.job.url, "http://127.0.0.1:9/c");
    assert.equal(store.remembersJob(job.userId, job.id), true);
    assert.equal(store.remembersJob(job.userId, "another-job"), false);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a run decided on a state changed elsewhere is written with its decide item, and the job read again", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    await using here = await Deno.openKv(path);
    await using there = await Deno.openKv(path);
    const store = new KvStore(here, { clock: new ManualClock(T0), retention: RETENTION });
    const job = await putJob(store, T0, { url: "http://127.0.0.1:9/a", schedule: "@every 20s" });
    const read = await store.getJobForRun(job.userId, job.id);
    // Another process decides the job's state after this one remembered it.
    const elsewhere = upState(job, 7);
    assert.equal(
      await new KvAlertStore(there).decide({
        current: read!.alertState!,
        next: elsewhere,
        settle: [],
      }),
      true,
    );
    const stale = await store.getJobForRun(job.userId, job.id);
    const decided = {
      decision: { current: stale!.alertState!, next: upState(job, 1), settle: [] },
      applied: false,
    };
    const decide = {
      userId: job.userId,
      jobId: job.id,
      at: T0,
      dueAt: T0,
      value: { end: T0 + 1, run: [T0, "local"] as [number, string] },
    };
    assert.equal(await store.recordRun({ ...completion(job, T0), decide, decided }), true);
    assert.equal(decided.applied, false, "the stale decision was not written");
    assert.deepEqual((await store.getJobForRun(job.userId, job.id))?.alertState?.state, elsewhere);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("keepWarm() keeps remembered jobs trusted while no run asks, and sees changes made meanwhile", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    await using here = await Deno.openKv(path);
    await using there = await Deno.openKv(path);
    // Behind the wall clock, which the change log is written by: the test moves it a minute on.
    let now = Date.now() - 120_000;
    jobMemoryOf(here, () => now);
    const store = new KvStore(here, { clock: new ManualClock(T0), retention: RETENTION });
    const other = new KvStore(there, { clock: new ManualClock(T0), retention: RETENTION });
    const minutely = await putJob(store, T0, {
      url: "http://127.0.0.1:9/a",
      schedule: "* * * * *",
    });
    const changed = await putJob(store, T0, { url: "http://127.0.0.1:9/b", schedule: "* * * * *" });
    for (const job of [minutely, changed]) await store.getJobForRun(job.userId, job.id);
    // A minute between fires, the memory kept warm every 20 s: still trusted, reading nothing.
    for (let i = 0; i < 3; i++) {
      now += 20_000;
      if (i === 1) {
        await other.updateJob(changed.userId, changed.id, (j) => ({
          job: { ...j, url: "http://127.0.0.1:9/c" },
          firstFireAt: undefined,
        }));
      }
      await store.keepMemory();
    }
    assert.equal(store.remembersJob(minutely.userId, minutely.id), true);
    assert.equal(store.remembersJob(changed.userId, changed.id), false, "changed elsewhere");
    assert.equal(
      (await store.getJobForRun(changed.userId, changed.id))?.job.url,
      "http://127.0.0.1:9/c",
    );
    // Without it, a minute without a run leaves nothing trusted.
    now += 60_000;
    assert.equal(store.remembersJob(minutely.userId, minutely.id), false);
  } finally {
    await Deno.remove(path);
  }
});
