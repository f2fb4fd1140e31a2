/**
 * The scheduler against real time, a real KV file and a real HTTP server. These are the few
 * tests that wait on the wall clock: what they check (starting on the second) is the clock.
 */
import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { parseConfig } from "../lib/config.ts";
import { closeOutbound } from "../lib/net/outbound.ts";
import { buildFires } from "../lib/scheduler/test_support.ts";
import { openKv } from "../lib/store/kv/open_kv.ts";
import type { JobView, Run } from "../lib/store/types.ts";
import { createSystem } from "../system.ts";
import { kvStores } from "../lib/store/kv/mod.ts";
import { callApp, expectStatus, ROOT_KEY } from "./helpers.ts";
import { delay, startTarget } from "./target_server.ts";

const config = (path: string) =>
  parseConfig({
    HIBIKI_KV_PATH: path,
    HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    HIBIKI_API_KEY: ROOT_KEY,
  });

/** Waits until just after a whole second, so a run of N seconds sees N fires. */
async function alignToSecond(): Promise<void> {
  await delay(1000 - (Date.now() % 1000) + 50);
}

Deno.test("a job every second fires on the second against a local server", async () => {
  const dir = await Deno.makeTempDir();
  const kv = await openKv(`${dir}/hibiki.kv`);
  const target = startTarget();
  const system = createSystem(kvStores(kv), config(`${dir}/hibiki.kv`), { queueWakeups: false });
  await system.start();
  await alignToSecond();
  const created = await callApp<JobView>(system.app, "POST", "/api/jobs", {
    body: { name: "every second", url: `${target.url}/tick`, schedule: "* * * * * *" },
  });
  expectStatus(created, 201);
  const job = created.body.data;
  await delay(3600);
  await system.stop();
  const runs = (await callApp<Run[]>(system.app, "GET", `/api/jobs/${job.id}/runs?limit=100`))
    .body.data;
  assert.ok(runs.length >= 3, `expected at least 3 runs, got ${runs.length}`);
  for (const run of runs) {
    assert.equal(run.status, "success");
    assert.equal(Date.parse(run.scheduledAt) % 1000, 0, "fires are on whole seconds");
    assert.ok(run.lateMs! < 100, `run ${run.id} started ${run.lateMs} ms late`);
  }
  assert.equal(target.hits.length, runs.length);
  for (const hit of target.hits) assert.ok(hit.at % 1000 < 150, `hit at +${hit.at % 1000} ms`);
  const view = await callApp<JobView>(system.app, "GET", `/api/jobs/${job.id}`);
  assert.equal(view.body.data.count, runs.length);
  await target.close();
  kv.close();
  await Deno.remove(dir, { recursive: true });
});

/**
 * One process's scheduling feature over `kv`, started and stopped as `System.start()` and
 * `System.stop()` start and stop it: the minute ticker, the fire lane and a first tick.
 */
async function startFires(kv: Deno.Kv, path: string) {
  const fires = buildFires(kv, systemClock, config(path));
  fires.scheduler.startTicking();
  fires.lane.start();
  await fires.scheduler.tick();
  return {
    ...fires,
    stop: async () => {
      fires.scheduler.stopTicking();
      await fires.lane.stop();
      closeOutbound();
    },
  };
}

Deno.test("two instances on one KV file run each fire exactly once", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/hibiki.kv`;
  const target = startTarget();
  const kvA = await openKv(path);
  const kvB = await openKv(path);
  const [a, b] = await Promise.all([startFires(kvA, path), startFires(kvB, path)]);
  const jobs = [];
  for (let i = 0; i < 5; i++) {
    jobs.push(
      await a.jobs.create("default", {
        name: `job ${i}`,
        url: `${target.url}/job/${i}`,
        schedule: "* * * * * *",
      }),
    );
  }
  // Both instances tick, as Deno.cron would on each, and race for every fire; then one
  // stops and the other carries on alone.
  await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
  await delay(1600);
  await a.stop();
  await delay(1900);
  await b.stop();
  const seen = new Set<string>();
  for (const hit of target.hits) {
    const key = `${hit.path}@${Math.floor(hit.at / 1000)}`;
    assert.ok(!seen.has(key), `${hit.path} was requested twice in one second`);
    seen.add(key);
  }
  let total = 0;
  for (const job of jobs) {
    const runs = (await a.store.listRuns("default", job.id, { limit: 100 })).values;
    assert.ok(runs.length >= 3);
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
    total += runs.length;
  }
  assert.equal(target.hits.length, total);
  assert.ok(a.metrics.runs.success > 0, "the first instance ran fires");
  assert.ok(b.metrics.runs.success > 0, "the second instance ran fires");
  await target.close();
  kvA.close();
  kvB.close();
  await Deno.remove(dir, { recursive: true });
});
