/**
 * A small client for the Cloud Run Admin API v2 (jobs:run, executions get/list) with
 * service-account tokens. Unlike the seed's sketch, `jobs:run` answers with a long-running
 * Operation whose `metadata` is the new Execution: the execution's name is `metadata.name`,
 * not the operation's `name`.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { ValidationError } from "../errors.ts";
import { parseRetryAfter } from "../net/retry.ts";
import { classifyStatus, GcpError } from "./errors.ts";
import { googleError, type GoogleResponse, send } from "./http.ts";
import type { GcpCredential } from "./service_account.ts";
import type { TokenSource } from "./token_cache.ts";

export const DEFAULT_RUN_BASE_URL = "https://run.googleapis.com";
const DEFAULT_TIMEOUT_MS = 30_000;
/** 2 s, 4 s, 8 s … then every 60 s. */
export const DEFAULT_POLL_DELAYS_MS: readonly number[] = [
  2_000,
  4_000,
  8_000,
  16_000,
  32_000,
  60_000,
];
const DEFAULT_PAGE_SIZE = 50;
const MAX_LIST_PAGES = 4;

const PROJECT_RE = /^(?:[a-z][a-z0-9.:-]{4,98}[a-z0-9]|\d{1,20})$/;
const REGION_RE = /^[a-z]+(?:-[a-z]+)*\d+$/;
const JOB_RE = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const SEGMENT = "[A-Za-z0-9][A-Za-z0-9.:_-]*";
const EXECUTION_NAME_RE = new RegExp(
  `^projects/${SEGMENT}/locations/${SEGMENT}/jobs/${SEGMENT}/executions/${SEGMENT}$`,
);

export interface EnvVar {
  name: string;
  value: string;
}

export interface RunOverrides {
  env?: EnvVar[];
  args?: string[];
  taskCount?: number;
  /** A protobuf Duration in JSON form: "3600s". */
  timeout?: string;
}

export interface JobRef {
  project: string;
  region: string;
  job: string;
}

export interface RunJobRequest extends JobRef {
  credential: GcpCredential;
  overrides?: RunOverrides;
  signal?: AbortSignal;
  /** Overrides the client's request timeout for this call. */
  timeoutMs?: number;
}

export interface RunJobResult {
  /** `projects/p/locations/l/operations/…` */
  operationName: string;
  /** `projects/p/locations/l/jobs/j/executions/j-abc12` */
  executionName: string;
}

export type ExecutionState = "pending" | "running" | "succeeded" | "failed" | "cancelled";

export interface ExecutionCondition {
  type: string;
  /** `CONDITION_PENDING`, `CONDITION_RECONCILING`, `CONDITION_SUCCEEDED`, `CONDITION_FAILED`. */
  state: string;
  /** `executionReason` (e.g. `NON_ZERO_EXIT_CODE`, `CANCELLED`), else `reason`. */
  reason: string | null;
  message: string | null;
}

export interface ExecutionStatus {
  name: string;
  succeededCount: number;
  failedCount: number;
  cancelledCount: number;
  runningCount: number;
  retriedCount: number;
  taskCount: number;
  logUri: string | null;
  createTime: string | null;
  completionTime: string | null;
  conditions: ExecutionCondition[];
  /** `completionTime` is set or the `Completed` condition is terminal. */
  done: boolean;
  succeeded: boolean;
  state: ExecutionState;
}

/** A listed execution with the plain env values of its task template (for matching a fire). */
export interface ListedExecution extends ExecutionStatus {
  env: EnvVar[];
}

export interface ListExecutionsRequest extends JobRef {
  credential: GcpCredential;
  /** Epoch ms; older executions are not returned and end the paging. */
  since: number;
  pageSize?: number;
  signal?: AbortSignal;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Delays between polls; the last one repeats. Default 2 s doubling to 60 s. */
  pollDelays?: readonly number[];
  /** Called with every status read, e.g. to record progress. */
  onStatus?: (status: ExecutionStatus) => void;
}

export interface CloudRunClientOptions {
  tokens: TokenSource;
  clock: Clock;
  /** Default `https://run.googleapis.com`; `HIBIKI_GCP_RUN_URL` feeds it (and tests' fake). */
  baseUrl?: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

// proto3 JSON omits zero and empty fields, hence the defaults.
const count = z.number().int().nonnegative().default(0);
const conditionSchema = z.object({
  type: z.string().default(""),
  state: z.string().default("STATE_UNSPECIFIED"),
  message: z.string().optional(),
  reason: z.string().optional(),
  executionReason: z.string().optional(),
});
const envSchema = z.object({ name: z.string(), value: z.string().optional() });
const executionSchema = z.object({
  name: z.string().regex(EXECUTION_NAME_RE),
  createTime: z.string().optional(),
  completionTime: z.string().optional(),
  succeededCount: count,
  failedCount: count,
  cancelledCount: count,
  runningCount: count,
  retriedCount: count,
  taskCount: count,
  logUri: z.string().optional(),
  conditions: z.array(conditionSchema).default([]),
  template: z.object({
    containers: z.array(z.object({ env: z.array(envSchema).default([]) })).default([]),
  }).optional(),
});
const operationSchema = z.object({
  name: z.string(),
  metadata: z.object({ name: z.string().regex(EXECUTION_NAME_RE) }),
});
const listSchema = z.object({
  executions: z.array(z.unknown()).default([]),
  nextPageToken: z.string().optional(),
});

const TERMINAL = new Set(["CONDITION_SUCCEEDED", "CONDITION_FAILED"]);

/** Reads the fields of a v2 Execution that decide whether and how it finished. */
export function toExecutionStatus(raw: z.output<typeof executionSchema>): ExecutionStatus {
  const conditions = raw.conditions.map((c) => ({
    type: c.type,
    state: c.state,
    reason: c.executionReason ?? c.reason ?? null,
    message: c.message ?? null,
  }));
  const completed = conditions.find((c) => c.type === "Completed");
  const completedTerminal = completed !== undefined && TERMINAL.has(completed.state);
  const done = raw.completionTime !== undefined || completedTerminal;
  // completionTime "is not guaranteed to be set in happens-before order", so the condition
  // decides when it is terminal; the counts only when it is not there yet.
  const succeeded = completedTerminal
    ? completed.state === "CONDITION_SUCCEEDED"
    : done && raw.failedCount === 0 && raw.cancelledCount === 0 &&
      raw.succeededCount >= Math.max(1, raw.taskCount);
  let state: ExecutionState;
  if (done) {
    const cancelled = completed?.reason === "CANCELLED" ||
      (raw.cancelledCount > 0 && raw.failedCount === 0);
    state = succeeded ? "succeeded" : cancelled ? "cancelled" : "failed";
  } else {
    const started = conditions.some((c) =>
      c.type === "Started" && c.state === "CONDITION_SUCCEEDED"
    );
    state = started || raw.runningCount > 0 ? "running" : "pending";
  }
  return {
    name: raw.name,
    succeededCount: raw.succeededCount,
    failedCount: raw.failedCount,
    cancelledCount: raw.cancelledCount,
    runningCount: raw.runningCount,
    retriedCount: raw.retriedCount,
    taskCount: raw.taskCount,
    logUri: raw.logUri ?? null,
    createTime: raw.createTime ?? null,
    completionTime: raw.completionTime ?? null,
    conditions,
    done,
    succeeded: done && succeeded,
    state,
  };
}

function checkJobRef(ref: JobRef): void {
  if (!PROJECT_RE.test(ref.project)) {
    throw new ValidationError(`Invalid Cloud Run target: project "${ref.project}"`, "project");
  }
  if (!REGION_RE.test(ref.region)) {
    throw new ValidationError(`Invalid Cloud Run target: region "${ref.region}"`, "region");
  }
  if (!JOB_RE.test(ref.job)) {
    throw new ValidationError(`Invalid Cloud Run target: job "${ref.job}"`, "job");
  }
}

function jobPath(ref: JobRef): string {
  checkJobRef(ref);
  return `projects/${ref.project}/locations/${ref.region}/jobs/${ref.job}`;
}

/** The run request body: only the parts that are set, as Cloud Run v2 spells them. */
export function buildRunBody(overrides: RunOverrides = {}): Record<string, unknown> {
  const container: Record<string, unknown> = {};
  if (overrides.env && overrides.env.length > 0) {
    container.env = overrides.env.map(({ name, value }) => ({ name, value }));
  }
  if (overrides.args && overrides.args.length > 0) container.args = [...overrides.args];
  const body: Record<string, unknown> = {};
  if (Object.keys(container).length > 0) body.containerOverrides = [container];
  if (overrides.taskCount !== undefined) body.taskCount = overrides.taskCount;
  if (overrides.timeout !== undefined) body.timeout = overrides.timeout;
  return Object.keys(body).length > 0 ? { overrides: body } : {};
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface CallOptions {
  action: string;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  sideEffects?: boolean;
}

export class CloudRunClient {
  readonly #tokens: TokenSource;
  readonly #clock: Clock;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;

  constructor(options: CloudRunClientOptions) {
    const base = options.baseUrl ?? DEFAULT_RUN_BASE_URL;
    if (!URL.canParse(base)) {
      throw new TypeError(`Cannot use Cloud Run URL: "${base}" is not a URL`);
    }
    this.#baseUrl = base.replace(/\/+$/, "");
    this.#tokens = options.tokens;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Starts one execution; resolves once Google has accepted it (not when it finishes). */
  async runJob(request: RunJobRequest): Promise<RunJobResult> {
    const path = `${jobPath(request)}:run`;
    const response = await this.#call(request.credential, "POST", path, {
      action: `Cannot run Cloud Run job "${request.job}"`,
      body: buildRunBody(request.overrides),
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      sideEffects: true,
    });
    const operation = operationSchema.safeParse(response.json);
    if (!operation.success) {
      throw new GcpError(
        `Cannot run Cloud Run job "${request.job}": the answer names no execution`,
        { category: "protocol", status: response.status, retryable: false },
      );
    }
    return { operationName: operation.data.name, executionName: operation.data.metadata.name };
  }

  async getExecution(
    credential: GcpCredential,
    name: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ExecutionStatus> {
    if (!EXECUTION_NAME_RE.test(name)) {
      throw new ValidationError(`Invalid execution name "${name}"`, "execution");
    }
    const action = `Cannot read execution "${name}"`;
    const response = await this.#call(credential, "GET", name, { action, signal: options.signal });
    const parsed = executionSchema.safeParse(response.json);
    if (!parsed.success) {
      throw new GcpError(`${action}: the answer is not an execution`, {
        category: "protocol",
        status: response.status,
        retryable: false,
      });
    }
    return toExecutionStatus(parsed.data);
  }

  /**
   * Executions of a job created at or after `since`, newest first (Google lists them by
   * creation time, descending, so paging stops at the first older one).
   */
  async listRecentExecutions(request: ListExecutionsRequest): Promise<ListedExecution[]> {
    const parent = jobPath(request);
    const action = `Cannot list executions of Cloud Run job "${request.job}"`;
    const found: ListedExecution[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query = new URLSearchParams({
        pageSize: String(request.pageSize ?? DEFAULT_PAGE_SIZE),
      });
      if (pageToken) query.set("pageToken", pageToken);
      const response = await this.#call(
        request.credential,
        "GET",
        `${parent}/executions?${query}`,
        { action, signal: request.signal },
      );
      const list = listSchema.safeParse(response.json);
      if (!list.success) {
        throw new GcpError(`${action}: the answer is not a list`, {
          category: "protocol",
          status: response.status,
          retryable: false,
        });
      }
      for (const item of list.data.executions) {
        const parsed = executionSchema.safeParse(item);
        if (!parsed.success) continue;
        const created = parsed.data.createTime ? Date.parse(parsed.data.createTime) : NaN;
        if (!Number.isNaN(created) && created < request.since) return found;
        found.push({
          ...toExecutionStatus(parsed.data),
          env: (parsed.data.template?.containers ?? []).flatMap((c) =>
            c.env.flatMap((e) => e.value === undefined ? [] : [{ name: e.name, value: e.value }])
          ),
        });
      }
      pageToken = list.data.nextPageToken;
      if (!pageToken) break;
    }
    return found;
  }

  /**
   * Polls until the execution is done. Transient failures (429, 5xx, timeouts) are polled
   * through; permanent ones (403, 404) and the signal's abort are thrown.
   */
  async waitForExecution(
    credential: GcpCredential,
    name: string,
    options: WaitOptions = {},
  ): Promise<ExecutionStatus> {
    const delays = options.pollDelays ?? DEFAULT_POLL_DELAYS_MS;
    for (let poll = 0;; poll++) {
      try {
        const status = await this.getExecution(credential, name, { signal: options.signal });
        options.onStatus?.(status);
        if (status.done) return status;
      } catch (error) {
        if (!(error instanceof GcpError) || !error.retryable) throw error;
      }
      const delay = delays.length === 0 ? 0 : delays[Math.min(poll, delays.length - 1)];
      await sleep(delay, options.signal);
    }
  }

  async #call(
    credential: GcpCredential,
    method: "GET" | "POST",
    path: string,
    options: CallOptions,
  ): Promise<GoogleResponse> {
    const url = `${this.#baseUrl}/v2/${path}`;
    for (let attempt = 0;; attempt++) {
      const token = await this.#tokens.getToken(credential, { signal: options.signal });
      const headers: Record<string, string> = {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
      };
      if (options.body !== undefined) headers["Content-Type"] = "application/json";
      const response = await send(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      }, {
        timeoutMs: options.timeoutMs ?? this.#timeoutMs,
        signal: options.signal,
        action: options.action,
        sideEffects: options.sideEffects,
      });
      if (response.status >= 200 && response.status < 300) return response;
      // A 401 means the token was revoked or expired early: one fresh token, one more try.
      // Google refused the request, so repeating a jobs:run cannot start a second execution.
      if (response.status === 401 && attempt === 0) {
        this.#tokens.invalidate(credential.id, token);
        continue;
      }
      const { category, retryable } = classifyStatus(response.status);
      const google = googleError(response);
      throw new GcpError(`${options.action}: ${google.message}`, {
        category,
        status: response.status,
        retryable,
        retryAfterMs: parseRetryAfter(response.headers["retry-after"], this.#clock.now()),
        googleStatus: google.status,
      });
    }
  }
}
