/** Shared set-up for scheduler tests: a job written straight into a store, the feature alone. */
import type { Clock } from "../clock.ts";
import { randomBytes, SecretBox } from "../crypto.ts";
import type { Config } from "../config.ts";
import { JobService } from "../jobs/jobs.ts";
import { Metrics } from "../metrics.ts";
import { nextFireTimes, parseSchedule } from "../schedule/schedule.ts";
import { createKvStores } from "../store/kv/mod.ts";
import type { Store } from "../store/store.ts";
import type { Job } from "../store/types.ts";
import { createFires } from "./feature.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import { type FireTask, fireTask, type FireValue } from "./fires.ts";

export async function putJob(
  store: Store,
  now: number,
  fields: Partial<Job> & { schedule: string },
): Promise<Job> {
  const stamp = new Date(now).toISOString();
  const job: Job = {
    id: crypto.randomUUID(),
    userId: "default",
    name: "test job",
    url: "http://127.0.0.1:9/",
    method: "GET",
    headers: null,
    body: null,
    timezone: "UTC",
    enabled: true,
    timeoutMs: 5000,
    expect: null,
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
  const schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
  await store.createJob(job, nextFireTimes(schedule, now, { limit: 1 })[0] ?? null);
  return job;
}

/**
 * The scheduling feature alone, as the system builds it: the fire lane, the scheduler and
 * the job service over `kv`, without the HTTP surface or the other features. Runs go to the
 * real HTTP client; no worker or Cloud Run credential exists.
 * `metrics` counts the runs of this feature alone (one per process in a two-process test).
 */
export function buildFires(kv: Deno.Kv, clock: Clock, config: Config) {
  const { records: store, lanes, claims } = createKvStores(kv, {
    clock,
    retention: config.runRetention,
  });
  const metrics = new Metrics();
  const { scheduler, lane } = createFires({
    store,
    lanes,
    claims,
    clock,
    metrics,
    config,
    queueWakeups: false,
  });
  const jobs = new JobService({
    store,
    scheduler,
    clock,
    allowPrivateNetworks: config.allowPrivateNetworks,
    box: new SecretBox(randomBytes(32)),
    publicUrl: config.publicUrlSet,
    workerIds: () => Promise.resolve(new Set()),
    cloudRun: {
      baseUrl: config.gcp.runUrl,
      defaults: () => ({ project: null, region: null, job: null, credentialId: null }),
      credentialExists: () => Promise.resolve(false),
    },
  });
  return { store, lanes, claims, scheduler, lane, jobs, metrics };
}

/**
 * A fire lane over `kv`, as one process has it, that records the fires it starts in `started`
 * and ends their lease.
 */
export function fireLane(kv: Deno.Kv, clock: Clock, started: FireTask[], maxConcurrency = 10) {
  const { lanes } = createKvStores(kv, { clock });
  return new Dispatcher<FireValue>({
    lane: "fire",
    store: lanes,
    clock,
    maxConcurrency,
    leaseMs: (fire) => fire.timeoutMs + 10_000,
    execute: (item, lease) => {
      started.push(fireTask(item));
      return lanes.release(lease.ref);
    },
  });
}
