/**
 * One fire of a `cloud_run_job` target: start an execution, then poll it to completion within
 * the fire's deadline, and report the outcome in the shape of a run result.
 *
 * A fire must never start two executions. `jobs:run` is not idempotent, so every run carries
 * `HIBIKI_FIRE_ID=<fireId>` in its env overrides; Cloud Run copies overrides into the new
 * Execution's `template.containers[].env`, which `executions.list` returns. Whenever a run may
 * have taken effect without our seeing the answer (timeout, broken connection, 5xx), we list the
 * job's recent executions and adopt the one carrying our fire id before trying `jobs:run` again.
 * Matching by creation time alone would adopt someone else's execution (a manual run, another
 * fire), so time only bounds the listing.
 */
import { z } from "zod";
import { type Clock, systemClock } from "../clock.ts";
import { ValidationError } from "../errors.ts";
import { issueError } from "../validation.ts";
import {
  type CloudRunClient,
  type EnvVar,
  type ExecutionState,
  type ExecutionStatus,
  type ListedExecution,
  sleep,
} from "./cloud_run.ts";
import { GcpError, type GcpErrorCategory } from "./errors.ts";
import type { GcpCredential } from "./service_account.ts";

/** The env var that ties an execution to the fire that started it. */
export const FIRE_ID_ENV = "HIBIKI_FIRE_ID";
/** Our clock and Google's may disagree; listings look back this much further. */
const CLOCK_SKEW_MS = 10 * 60_000;
const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [2_000, 5_000];
/** Cloud Run's longest task timeout: 168 hours. */
const MAX_TASK_TIMEOUT_S = 168 * 3600;

const envVarSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, "must be a variable name")
    .refine((name) => name !== FIRE_ID_ENV, `is reserved (${FIRE_ID_ENV})`),
  value: z.string().max(32_768, "is too long"),
}).strict();

export const cloudRunTargetSchema = z.object({
  project: z.string().regex(
    /^(?:[a-z][a-z0-9.:-]{4,98}[a-z0-9]|\d{1,20})$/,
    "must be a project id",
  ),
  region: z.string().regex(/^[a-z]+(?:-[a-z]+)*\d+$/, "must be a region like asia-northeast1"),
  job: z.string().regex(/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/, "must be a Cloud Run job name"),
  overrides: z.object({
    env: z.array(envVarSchema).max(100, "has too many variables"),
    args: z.array(z.string().max(4096)).max(100, "has too many arguments"),
    taskCount: z.number().int().min(1).max(10_000),
    timeout: z.string().regex(/^\d{1,6}s$/, 'must be seconds like "3600s"')
      .refine((t) => Number.parseInt(t) <= MAX_TASK_TIMEOUT_S, "is longer than 168 hours"),
  }).partial().strict().default({}),
}).strict();

export type CloudRunTarget = z.output<typeof cloudRunTargetSchema>;

/**
 * Fields of a `jobs:run` request as seed 000's client builds it, which the API takes in
 * another shape or not at all: the refusal says where they go instead.
 */
const RUN_REQUEST_HINTS = {
  serviceAccount: "a run request cannot set the service account (Cloud Run's RunJobRequest " +
    "has no such field): set it on the Cloud Run job itself, e.g. " +
    "gcloud run jobs update JOB --service-account=EMAIL",
  containerOverrides: "put env and args straight in cloudRun.overrides; Hibiki builds " +
    "containerOverrides from them",
  timeout: "set it as cloudRun.overrides.timeout",
};

/**
 * Validates a target; errors name the field (`overrides.env.0.name must be …`), from `at`
 * when the target sits inside a request body.
 */
export function parseCloudRunTarget(input: unknown, options: { at?: string } = {}): CloudRunTarget {
  const parsed = cloudRunTargetSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw issueError(parsed.error, { at: options.at, hints: RUN_REQUEST_HINTS });
}

export type CloudRunFireErrorCategory =
  | GcpErrorCategory
  | "execution_failed"
  | "execution_cancelled";

export interface CloudRunFireResult {
  /** The execution finished and Cloud Run reports it succeeded. */
  success: boolean;
  /**
   * HTTP status of the Google answer behind the outcome: 200 once an execution was started or
   * found, Google's error status when it refused, 0 when no answer arrived.
   */
  code: number;
  durationMs: number;
  /** Null when no execution was started (or none could be found after an unknown outcome). */
  execution: {
    name: string;
    succeededCount: number;
    failedCount: number;
    logUri: string | null;
    status: ExecutionState;
  } | null;
  error: { category: CloudRunFireErrorCategory; message: string } | null;
}

export interface CloudRunFireOptions {
  client: CloudRunClient;
  credential: GcpCredential;
  target: CloudRunTarget;
  /** Stable across redeliveries of the same fire (e.g. the run id). */
  fireId: string;
  /** Budget in ms for the whole fire: starting the execution and waiting for it to finish. */
  deadlineMs: number;
  /**
   * Look for an execution carrying this fire id before the first `jobs:run`: set it when the
   * fire may have been attempted before (a redelivered queue message after a crash).
   */
  checkExisting?: boolean;
  /**
   * Epoch ms of the fire's first attempt (e.g. its scheduled time), so a redelivered fire
   * lists far enough back; default now. Listings look back a further 10 minutes for skew.
   */
  firstAttemptAt?: number;
  /** Wall clock, to bound listings by creation time; default the system clock. */
  clock?: Clock;
  /** Monotonic ms for `durationMs`; default `performance.now`. */
  now?: () => number;
  pollDelays?: readonly number[];
  /**
   * Waits before trying `jobs:run` again after a retryable failure (429, 5xx, no answer);
   * one more attempt than entries. Default 2 s, 5 s.
   */
  retryDelays?: readonly number[];
  /** Timeout of one `jobs:run` request; default the client's. */
  runTimeoutMs?: number;
  signal?: AbortSignal;
}

class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
}

/** The env overrides of a fire: the target's, plus the fire id. */
export function fireEnv(target: CloudRunTarget, fireId: string): EnvVar[] {
  const env = (target.overrides.env ?? []).filter((e) => e.name !== FIRE_ID_ENV);
  return [...env, { name: FIRE_ID_ENV, value: fireId }];
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

function describeFailure(status: ExecutionStatus): string {
  const completed = status.conditions.find((c) => c.type === "Completed");
  const detail = completed?.message ? `: ${completed.message}` : "";
  if (status.state === "cancelled") {
    return `Cloud Run execution ${shortName(status.name)} was cancelled${detail}`;
  }
  const tasks = status.taskCount > 0
    ? ` (${status.failedCount} of ${status.taskCount} tasks failed)`
    : "";
  return `Cloud Run execution ${shortName(status.name)} failed${tasks}${detail}`;
}

/** Starts the target's job for one fire and waits for the execution to finish. */
export async function runCloudRunFire(options: CloudRunFireOptions): Promise<CloudRunFireResult> {
  const { client, credential, target, fireId } = options;
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? systemClock;
  const retryDelays = options.retryDelays ?? DEFAULT_RETRY_DELAYS_MS;
  const started = now();
  const since = Math.min(options.firstAttemptAt ?? Infinity, clock.now()) - CLOCK_SKEW_MS;

  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DeadlineExceeded(`Deadline of ${options.deadlineMs} ms passed`)),
    Math.max(0, options.deadlineMs),
  );
  const signal = options.signal
    ? AbortSignal.any([deadline.signal, options.signal])
    : deadline.signal;

  let code = 0;
  let executionName: string | null = null;
  let last: ExecutionStatus | null = null;
  // A jobs:run is in flight (or was cut off) and we have not seen whether it started.
  let uncertain = false;

  const result = (
    success: boolean,
    error: CloudRunFireResult["error"],
  ): CloudRunFireResult => ({
    success,
    code,
    durationMs: Math.max(0, Math.round(now() - started)),
    execution: executionName === null ? null : {
      name: executionName,
      succeededCount: last?.succeededCount ?? 0,
      failedCount: last?.failedCount ?? 0,
      logUri: last?.logUri ?? null,
      status: last?.state ?? "pending",
    },
    error,
  });

  const findOurs = async (): Promise<ListedExecution | null> => {
    const listed = await client.listRecentExecutions({
      credential,
      project: target.project,
      region: target.region,
      job: target.job,
      since,
      signal,
    });
    return listed.find((e) => e.env.some((v) => v.name === FIRE_ID_ENV && v.value === fireId)) ??
      null;
  };

  try {
    if (options.checkExisting) {
      const found = await findOurs();
      if (found) {
        executionName = found.name;
        last = found;
        code = 200;
      }
    }
    for (let attempt = 0; executionName === null; attempt++) {
      try {
        uncertain = true;
        const run = await client.runJob({
          credential,
          project: target.project,
          region: target.region,
          job: target.job,
          overrides: { ...target.overrides, env: fireEnv(target, fireId) },
          signal,
          timeoutMs: options.runTimeoutMs,
        });
        executionName = run.executionName;
        code = 200;
        break;
      } catch (error) {
        if (!(error instanceof GcpError)) throw error;
        code = error.status;
        const mayHaveStarted = error.category === "unknown_outcome" || error.status >= 500;
        uncertain = mayHaveStarted;
        if (!error.retryable) {
          return result(false, { category: error.category, message: error.message });
        }
        const delay = retryDelays[Math.min(attempt, retryDelays.length - 1)] ?? 0;
        await sleep(Math.max(delay, error.retryAfterMs ?? 0), signal);
        if (mayHaveStarted) {
          let found: ListedExecution | null;
          try {
            found = await findOurs();
          } catch (listError) {
            if (!(listError instanceof GcpError)) throw listError;
            // Running again could start a second execution; better to report the doubt.
            return result(false, {
              category: "unknown_outcome",
              message: `${error.message}; cannot check whether it started: ${listError.message}`,
            });
          }
          uncertain = false;
          if (found) {
            executionName = found.name;
            last = found;
            code = 200;
            break;
          }
        }
        if (attempt >= retryDelays.length) {
          return result(false, { category: error.category, message: error.message });
        }
      }
    }

    const final = await client.waitForExecution(credential, executionName, {
      signal,
      pollDelays: options.pollDelays,
      onStatus: (status) => {
        last = status;
      },
    });
    last = final;
    code = 200;
    if (final.succeeded) return result(true, null);
    return result(false, {
      category: final.state === "cancelled" ? "execution_cancelled" : "execution_failed",
      message: describeFailure(final),
    });
  } catch (error) {
    if (signal.aborted && error === signal.reason) {
      const why = deadline.signal.aborted
        ? `deadline of ${options.deadlineMs} ms passed`
        : "aborted";
      if (executionName === null) {
        // The abort may have cut off a jobs:run that Google had already accepted.
        return result(false, {
          category: uncertain ? "unknown_outcome" : "timeout",
          message: uncertain
            ? `Cannot run Cloud Run job "${target.job}": ${why} before Google answered; ` +
              `an execution may have started (${FIRE_ID_ENV}=${fireId})`
            : `Cannot run Cloud Run job "${target.job}": ${why}`,
        });
      }
      return result(false, {
        category: "timeout",
        message: `Cloud Run execution ${shortName(executionName)} still ${
          last?.state ?? "pending"
        }: ${why}`,
      });
    }
    if (error instanceof GcpError) {
      if (error.status !== 0) code = error.status;
      return result(false, { category: error.category, message: error.message });
    }
    if (error instanceof ValidationError) {
      return result(false, { category: "invalid", message: error.message });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
