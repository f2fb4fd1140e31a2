/** Shared set-up for scheduler tests: a job written straight into a store. */
import { nextFireTimes, parseSchedule } from "../schedule.ts";
import type { KvStore } from "../store/kv/kv_store.ts";
import type { Job } from "../store/types.ts";

export async function putJob(
  store: KvStore,
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
