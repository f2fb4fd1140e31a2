/**
 * Jobs as the API and the admin pages use them: create, read, change, delete, run now,
 * and preview fire times. Routes stay thin and call these.
 */
import type { Clock } from "../clock.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { nextFireTimes, parseSchedule, type Schedule } from "../schedule.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { runId } from "../store/kv_store.ts";
import type { Store, StoredJob } from "../store/store.ts";
import type { Job, JobView, Page } from "../store/types.ts";
import { assignWorkers } from "../edge/assignments.ts";
import { checkJob, parseJobInput, parseJobPatch } from "./job_input.ts";

export interface JobServiceOptions {
  store: Store;
  scheduler: Scheduler;
  clock: Clock;
  /** The registered probe workers' ids, to check job assignments against. */
  workerIds: () => Promise<Set<string>>;
  allowPrivateNetworks: boolean;
}

export class JobService {
  constructor(private readonly options: JobServiceOptions) {}

  async create(userId: string, body: unknown): Promise<JobView> {
    const input = parseJobInput(body);
    const now = this.options.clock.now();
    const id = crypto.randomUUID();
    const schedule = checkJob({ ...input, id }, this.options);
    const known = input.workers.length > 0 ? await this.options.workerIds() : new Set<string>();
    const workers = assignWorkers(input.workers, schedule, (w) => known.has(w));
    const stamp = new Date(now).toISOString();
    const job: Job = { id, userId, ...input, workers, createdAt: stamp, updatedAt: stamp };
    await this.options.store.createJob(job, runsHere(job) ? firstFire(schedule, now) : null);
    await this.options.scheduler.scheduleJob(userId, id);
    return this.view({ job, count: 0, lastRunAt: null });
  }

  async get(userId: string, jobId: string): Promise<JobView> {
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    return this.view(stored);
  }

  async list(userId: string, options: { cursor?: string; limit: number }): Promise<Page<JobView>> {
    const page = await this.options.store.listJobs(userId, options);
    return { values: page.values.map((s) => this.view(s)), cursor: page.cursor };
  }

  async update(userId: string, jobId: string, body: unknown): Promise<JobView> {
    const { workers: requested, ...patch } = parseJobPatch(body);
    const now = this.options.clock.now();
    const known = await this.options.workerIds();
    const job = await this.options.store.updateJob(userId, jobId, (current) => {
      const next: Job = { ...current, ...patch, updatedAt: new Date(now).toISOString() };
      const schedule = checkJob(next, this.options);
      // A new schedule re-spreads the workers' offsets unless the patch gives them.
      const scheduleChanged = next.schedule !== current.schedule;
      const workers = requested ??
        (current.workers ?? []).map((w) => scheduleChanged ? { workerId: w.workerId } : w);
      next.workers = assignWorkers(workers, schedule, (w) => known.has(w));
      const timing = scheduleChanged || next.timezone !== current.timezone ||
        next.enabled !== current.enabled || next.timeoutMs !== current.timeoutMs ||
        runsHere(next) !== runsHere(current);
      // Fires already claimed stay claimed; the runner drops any the new schedule lacks.
      const firstFireAt = timing ? (runsHere(next) ? firstFire(schedule, now) : null) : undefined;
      return { job: next, firstFireAt };
    });
    await this.options.scheduler.scheduleJob(userId, jobId);
    return this.get(userId, job.id);
  }

  async delete(userId: string, jobId: string): Promise<void> {
    await this.options.store.deleteJob(userId, jobId);
  }

  /** Queues a manual run now; returns the id its run record will have. */
  async runNow(userId: string, jobId: string): Promise<{ runId: string; scheduledAt: string }> {
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    const at = this.options.clock.now();
    const suffix = await this.options.scheduler.addManualFire(userId, jobId, {
      at,
      timeoutMs: stored.job.timeoutMs,
    });
    return { runId: runId(at, suffix), scheduledAt: new Date(at).toISOString() };
  }

  /** The next `count` fire times, in UTC and in the job's time zone. */
  async nextTimes(
    userId: string,
    jobId: string,
    count: number,
  ): Promise<{ at: string; local: string }[]> {
    if (!Number.isInteger(count) || count < 1 || count > 100) {
      throw new ValidationError("count must be a whole number from 1 to 100", "count");
    }
    const job = await this.get(userId, jobId);
    return nextFireTimes(scheduleOf(job), this.options.clock.now(), { limit: count }).map((at) => ({
      at: new Date(at).toISOString(),
      local: formatLocal(at, job.timezone),
    }));
  }

  private view(stored: StoredJob): JobView {
    const { job } = stored;
    let nextRunAt: string | null = null;
    if (runsHere(job)) {
      const next = firstFire(scheduleOf(job), this.options.clock.now());
      nextRunAt = next === null ? null : new Date(next).toISOString();
    }
    return {
      ...job,
      local: job.local ?? true,
      workers: job.workers ?? [],
      count: stored.count,
      lastRunAt: stored.lastRunAt === null ? null : new Date(stored.lastRunAt).toISOString(),
      nextRunAt,
    };
  }
}

/** Whether Hibiki itself fires the job (it may be checked only by remote workers). */
export function runsHere(job: Job): boolean {
  return job.enabled && job.local !== false;
}

function scheduleOf(job: Job): Schedule {
  return parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
}

function firstFire(schedule: Schedule, now: number): number | null {
  return nextFireTimes(schedule, now, { limit: 1 })[0] ?? null;
}

/** ISO 8601 with the zone's offset, e.g. `2026-11-24T09:00:00+09:00`. */
export function formatLocal(at: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "longOffset",
    }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === "GMT" ? "+00:00" : parts.timeZoneName.replace("GMT", "");
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
