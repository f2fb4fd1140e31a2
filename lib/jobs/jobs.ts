/**
 * Jobs as the API and the admin pages use them: create, read, change, delete, run now,
 * and preview fire times. Routes stay thin and call these.
 */
import type { Clock } from "../clock.ts";
import type { SecretBox } from "../crypto.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { nextFireTimes, type Schedule } from "../schedule/schedule.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { runId } from "../store/run_id.ts";
import type { Store, StoredJob } from "../store/store.ts";
import type { Job, JobView, Page } from "../store/types.ts";
import { assignWorkers } from "../edge/assignments.ts";
import {
  alertSettingsOf,
  type AlertsInput,
  checkAlerts,
  defaultAlertSettings,
  resolveAlerts,
} from "../alerts/alert_settings.ts";
import {
  type CloudRunDefaults,
  type CloudRunSpec,
  cloudRunUrl,
  resolveCloudRunSpec,
} from "../gcp/cloud_run_spec.ts";
import {
  checkJob,
  checkPatchForType,
  DEFAULT_CLOUD_RUN_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  parseJobInput,
  parseJobPatch,
} from "./job_input.ts";
import {
  DEFAULT_GRACE_SECONDS,
  expectedSchedule,
  fireSchedule,
  HEARTBEAT_TIMEOUT_MS,
} from "../heartbeat/window.ts";
import { newPingToken, pingTokenHash, tokenContext } from "../heartbeat/token.ts";

export interface JobServiceOptions {
  store: Store;
  /**
   * Whether a notification channel exists for the owner (`alerts.channels`); absent until the
   * channels store exists, when any well-formed id is accepted.
   */
  channelExists?: (userId: string, channelId: string) => Promise<boolean>;
  scheduler: Scheduler;
  clock: Clock;
  /** The registered probe workers' ids, to check job assignments against. */
  workerIds: () => Promise<Set<string>>;
  cloudRun: {
    defaults: (userId: string) => CloudRunDefaults;
    credentialExists: (userId: string, credentialId: string) => Promise<boolean>;
    baseUrl: string;
  };
  allowPrivateNetworks: boolean;
  /** Seals heartbeat jobs' ping tokens. */
  box: SecretBox;
  /** `HIBIKI_PUBLIC_URL`, without a trailing slash: the base of ping URLs when set. */
  publicUrl: string | null;
}

/** Where the answer goes: its origin is the base of ping URLs unless HIBIKI_PUBLIC_URL is set. */
export interface ViewOptions {
  origin?: string;
}

export class JobService {
  constructor(private readonly options: JobServiceOptions) {}

  async create(userId: string, body: unknown, options: ViewOptions = {}): Promise<JobView> {
    const { cloudRun, url, timeoutMs, workers: requested, graceSeconds, alerts, ...input } =
      parseJobInput(body);
    const now = this.options.clock.now();
    const id = crypto.randomUUID();
    const stamp = new Date(now).toISOString();
    const base = { id, userId, ...input, workers: [], createdAt: stamp, updatedAt: stamp };
    await this.checkChannels(userId, alerts);
    if (input.type === "cloud_run_job" && requested.length > 0) {
      throw new ValidationError("workers probe HTTP jobs, not Cloud Run jobs", "workers");
    }
    const job: Job = input.type === "cloud_run_job"
      ? await this.cloudRunJob(base, { cloudRun, url, timeoutMs }, undefined)
      : input.type === "heartbeat"
      ? await this.heartbeatJob(base, graceSeconds ?? DEFAULT_GRACE_SECONDS, now)
      : httpJob(base, { cloudRun, url, timeoutMs });
    const schedule = checkJob(job, this.options);
    const known = requested.length > 0 ? await this.options.workerIds() : new Set<string>();
    job.workers = assignWorkers(requested, schedule, (w) => known.has(w));
    job.alerts = resolveAlerts(alerts, undefined, () => defaultAlertSettings(schedule, now));
    checkAlerts(job);
    await this.options.store.createJob(
      job,
      runsHere(job) ? firstFire(fireSchedule(job), now) : null,
    );
    await this.options.scheduler.scheduleJob(userId, id);
    return await this.view({ job, count: 0, lastRunAt: null }, options);
  }

  async get(userId: string, jobId: string, options: ViewOptions = {}): Promise<JobView> {
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    return await this.view(stored, options);
  }

  async list(
    userId: string,
    page: { cursor?: string; limit: number },
    options: ViewOptions = {},
  ): Promise<Page<JobView>> {
    const found = await this.options.store.listJobs(userId, page);
    const values = await Promise.all(found.values.map((s) => this.view(s, options)));
    return { values, cursor: found.cursor };
  }

  async update(
    userId: string,
    jobId: string,
    body: unknown,
    options: ViewOptions = {},
  ): Promise<JobView> {
    const { workers: requested, cloudRun, graceSeconds, alerts, ...patch } = parseJobPatch(body);
    await this.checkChannels(userId, alerts);
    const now = this.options.clock.now();
    const known = await this.options.workerIds();
    const current = await this.options.store.getJob(userId, jobId);
    if (!current) throw new NotFoundError(`Cannot update job: job "${jobId}" not found`);
    checkPatchForType({ ...patch, workers: requested, cloudRun, graceSeconds }, current.job.type);
    // The Cloud Run target is resolved (and its credential looked up) before the write.
    const spec = current.job.type === "cloud_run_job"
      ? (await this.cloudRunJob(current.job, { cloudRun, url: patch.url }, current.job.cloudRun))
        .cloudRun
      : current.job.type === "heartbeat"
      ? undefined
      : httpJob(current.job, { cloudRun, url: current.job.url }).cloudRun;
    const job = await this.options.store.updateJob(userId, jobId, (current, duePointer) => {
      const next: Job = { ...current, ...patch, updatedAt: new Date(now).toISOString() };
      if (spec) next.cloudRun = spec;
      if (current.heartbeat && graceSeconds !== undefined) {
        next.heartbeat = { ...current.heartbeat, graceSeconds };
      }
      const schedule = checkJob(next, this.options);
      // A new schedule re-spreads the workers' offsets unless the patch gives them.
      const scheduleChanged = next.schedule !== current.schedule;
      const workers = requested ??
        (current.workers ?? []).map((w) => scheduleChanged ? { workerId: w.workerId } : w);
      if (next.type === "cloud_run_job" && workers.length > 0) {
        throw new ValidationError("workers probe HTTP jobs, not Cloud Run jobs", "workers");
      }
      next.workers = assignWorkers(workers, schedule, (w) => known.has(w));
      next.alerts = resolveAlerts(
        alerts,
        current.alerts,
        () => defaultAlertSettings(schedule, Date.parse(current.createdAt)),
      );
      checkAlerts(next);
      const timing = scheduleChanged || next.timezone !== current.timezone ||
        next.enabled !== current.enabled || next.timeoutMs !== current.timeoutMs ||
        runsHere(next) !== runsHere(current) ||
        next.heartbeat?.graceSeconds !== current.heartbeat?.graceSeconds;
      if (!timing) return { job: next, firstFireAt: undefined };
      // A heartbeat resumed or retimed owes no ping for times before now.
      if (next.heartbeat) next.heartbeat = { ...next.heartbeat, checksFrom: now };
      // Fires claimed under the old schedule and due after now are withdrawn (those due
      // before stay owed: see Runner); the new one starts two seconds from now, so a fire
      // already read ahead or starting now cannot run twice.
      const from = now + EDIT_MARGIN_MS;
      return {
        job: next,
        firstFireAt: runsHere(next) ? firstFire(fireSchedule(next), from) : null,
        withdrawFires: claimedFires(current, now, duePointer),
      };
    });
    await this.options.scheduler.scheduleJob(userId, jobId);
    return this.get(userId, job.id, options);
  }

  async delete(userId: string, jobId: string): Promise<void> {
    await this.options.store.deleteJob(userId, jobId);
  }

  /**
   * Queues a manual run now; returns the id its run record will have. `env` adds variables
   * to a Cloud Run job's execution (an inbound webhook's payload).
   */
  async runNow(
    userId: string,
    jobId: string,
    options: { env?: { name: string; value: string }[] } = {},
  ): Promise<{ runId: string; scheduledAt: string }> {
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    if (stored.job.type === "heartbeat") {
      throw new ValidationError(
        "Cannot run a heartbeat job: it runs when pinged; send a request to its pingUrl",
        "type",
      );
    }
    const at = this.options.clock.now();
    const suffix = await this.options.scheduler.addManualFire(userId, jobId, {
      at,
      timeoutMs: stored.job.timeoutMs,
      env: stored.job.type === "cloud_run_job" ? options.env : undefined,
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
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    const job = stored.job;
    const now = this.options.clock.now();
    return nextFireTimes(expectedSchedule(job), now, { limit: count }).map((at) => ({
      at: new Date(at).toISOString(),
      local: formatLocal(at, job.timezone),
    }));
  }

  /** Refuses channels the owner does not have (once the channels store can tell). */
  private async checkChannels(userId: string, alerts: AlertsInput | undefined): Promise<void> {
    const exists = this.options.channelExists;
    if (!exists || !alerts?.channels) return;
    for (const { channelId } of alerts.channels) {
      if (!(await exists(userId, channelId))) {
        throw new ValidationError(
          `alerts.channels names an unknown channel "${channelId}"`,
          "alerts",
        );
      }
    }
  }

  /** A Cloud Run job: the target resolved against the defaults, the URL naming it. */
  private async cloudRunJob(
    job: Omit<Job, "url" | "timeoutMs"> & Partial<Pick<Job, "timeoutMs">>,
    given: { cloudRun: unknown; url: string | undefined; timeoutMs?: number },
    current: CloudRunSpec | undefined,
  ): Promise<Job> {
    if (given.url !== undefined) {
      throw new ValidationError("url does not apply to a cloud_run_job: set cloudRun", "url");
    }
    if (job.workers && job.workers.length > 0) {
      throw new ValidationError("workers probe HTTP jobs, not Cloud Run jobs", "workers");
    }
    const { cloudRun } = this.options;
    const input = given.cloudRun === undefined && current
      ? current
      : current && typeof given.cloudRun === "object"
      ? { ...current, ...given.cloudRun as object }
      : given.cloudRun;
    const spec = resolveCloudRunSpec(input, cloudRun.defaults(job.userId));
    if (!(await cloudRun.credentialExists(job.userId, spec.credentialId))) {
      throw new ValidationError(
        `cloudRun.credentialId names an unknown credential "${spec.credentialId}"`,
        "cloudRun",
      );
    }
    return {
      ...job,
      method: "POST",
      url: cloudRunUrl(spec, cloudRun.baseUrl),
      timeoutMs: given.timeoutMs ?? job.timeoutMs ?? DEFAULT_CLOUD_RUN_TIMEOUT_MS,
      cloudRun: spec,
    };
  }

  /** A heartbeat job: nothing to send, a grace and a new ping token, sealed. */
  private async heartbeatJob(
    job: Omit<Job, "url" | "timeoutMs">,
    graceSeconds: number,
    now: number,
  ): Promise<Job> {
    const token = newPingToken();
    return {
      ...job,
      url: "",
      method: "GET",
      headers: null,
      body: null,
      expect: null,
      timeoutMs: HEARTBEAT_TIMEOUT_MS,
      heartbeat: {
        graceSeconds,
        sealedToken: await this.options.box.seal(token, tokenContext(job.id)),
        tokenHash: pingTokenHash(token),
        checksFrom: now,
      },
    };
  }

  private async view(stored: StoredJob, options: ViewOptions): Promise<JobView> {
    const { heartbeat, ...job } = stored.job;
    let nextRunAt: string | null = null;
    if (runsHere(stored.job)) {
      // For a heartbeat, when the next ping is expected (its check comes a grace later).
      const next = firstFire(expectedSchedule(stored.job), this.options.clock.now());
      nextRunAt = next === null ? null : new Date(next).toISOString();
    }
    const view: JobView = {
      ...job,
      type: job.type ?? "http",
      local: job.local ?? true,
      workers: job.workers ?? [],
      alerts: alertSettingsOf(job),
      count: stored.count,
      lastRunAt: stored.lastRunAt === null ? null : new Date(stored.lastRunAt).toISOString(),
      nextRunAt,
    };
    if (heartbeat) {
      const token = await this.options.box.open(heartbeat.sealedToken, tokenContext(job.id));
      const base = this.options.publicUrl ?? options.origin ?? "";
      view.graceSeconds = heartbeat.graceSeconds;
      view.pingUrl = `${base}/ping/${token}`;
    }
    return view;
  }
}

/** An HTTP job from its input: a URL is required, a Cloud Run target refused. */
function httpJob(
  job: Omit<Job, "url" | "timeoutMs"> & Partial<Pick<Job, "timeoutMs">>,
  given: { cloudRun: unknown; url: string | undefined; timeoutMs?: number },
): Job {
  if (given.cloudRun !== undefined) {
    throw new ValidationError('cloudRun applies only to jobs of type "cloud_run_job"', "cloudRun");
  }
  if (given.url === undefined) throw new ValidationError("url is required", "url");
  return {
    ...job,
    url: given.url,
    timeoutMs: given.timeoutMs ?? job.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/**
 * How soon after an edit the new schedule may fire: past the second in which held fires are
 * read ahead (a fire read before the edit runs as read), so no time runs twice.
 */
const EDIT_MARGIN_MS = 2000;

/**
 * The times of `job`'s fires claimed ahead and not started (after `now`, before its scheduler
 * pointer): held, or handed back waiting by a process that stopped.
 */
function claimedFires(job: Job, now: number, duePointer: number | null): number[] {
  if (!runsHere(job) || duePointer === null || duePointer <= now) return [];
  return nextFireTimes(fireSchedule(job), now, { limit: 100, beforeMs: duePointer });
}

/** Whether Hibiki itself fires the job (it may be checked only by remote workers). */
export function runsHere(job: Job): boolean {
  return job.enabled && job.local !== false;
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
