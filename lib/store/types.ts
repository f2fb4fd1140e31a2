/**
 * The records Hibiki keeps. Every record has an owner (`userId`); reads always go through
 * the owner so another tenant's id is simply not found.
 */

import type { CloudRunSpec } from "../gcp/cloud_run_spec.ts";
import type { HttpMethod, ProbeExpect } from "../net/probe.ts";

export type { HttpMethod };
export type Expectation = ProbeExpect;

/** A probe worker checking a job, at `checkMinute:checkSecond` within each interval. */
export interface WorkerAssignment {
  workerId: string;
  checkMinute: number;
  checkSecond: number;
}

/** What the user configured; counters and fire times live beside it (see `JobView`). */
export interface Job {
  id: string;
  userId: string;
  name: string;
  url: string;
  method: HttpMethod;
  headers: Record<string, string> | null;
  body: string | null;
  schedule: string;
  timezone: string;
  enabled: boolean;
  timeoutMs: number;
  expect: Expectation | null;
  /** Whether Hibiki itself runs the job on its schedule (absent in old records: true). */
  local?: boolean;
  /** Remote probe workers that also check it (seed 002); absent in old records: none. */
  workers?: WorkerAssignment[];
  /** What a run does: an HTTP request (the default) or starting a Cloud Run job. */
  type?: "http" | "cloud_run_job";
  /** The Cloud Run target, for `type: "cloud_run_job"` (then `url` only names it). */
  cloudRun?: CloudRunSpec;
  createdAt: string;
  updatedAt: string;
}

/** A remote probe worker (seed 002's `workers` table). */
export interface Worker {
  id: string;
  name: string;
  is_active: boolean;
  last_seen_at: string | null;
  created_at: string;
}

/** A job as the API shows it: the configuration plus its counters. */
export interface JobView extends Job {
  type: "http" | "cloud_run_job";
  local: boolean;
  workers: WorkerAssignment[];
  count: number;
  lastRunAt: string | null;
  nextRunAt: string | null;
}

export type Trigger = "AUTO" | "MANUAL";
export type RunStatus = "success" | "failure" | "missed";

export interface RunResponse {
  headers: Record<string, string>;
  body: string;
  bodyTruncated: boolean;
}

/** One execution of a job at one scheduled time, in one place (`local` or a worker id). */
export interface Run {
  id: string;
  jobId: string;
  userId: string;
  where: string;
  trigger: Trigger;
  status: RunStatus;
  /** HTTP status; 0 when the request failed or never ran. */
  code: number;
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** How late the run started after its scheduled time. */
  lateMs: number | null;
  response: RunResponse | null;
  error: { category: string; message: string } | null;
  /** Why the expectations failed, when the request itself worked. */
  failure: string | null;
  /** On a `missed` record that stands for several fires: how many. */
  missedCount?: number;
  /** For Cloud Run jobs: the execution this run started and how it ended. */
  execution?: {
    name: string;
    succeededCount: number;
    failedCount: number;
    logUri: string | null;
    status: string;
  } | null;
}

export const SCOPES = ["read:jobs", "write:jobs", "read:logs", "write:logs", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  scopes: Scope[];
  /** The first characters of the key, to recognise it in lists; the key itself is not kept. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  createdAt: string;
}

export interface Page<T> {
  values: T[];
  cursor: string | null;
}
