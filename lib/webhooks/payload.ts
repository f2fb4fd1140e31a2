/**
 * The seed 003 payload: `{ id, job, result, webhook: { sendAt } }`. The job and result are
 * captured when the run finishes and stored with the delivery; `sendAt` is stamped on each
 * attempt, and the bytes of that attempt are what gets signed.
 */
import { nextFireTimes, parseSchedule } from "../schedule/schedule.ts";
import type { JobForRun } from "../store/store.ts";
import type { Run } from "../store/types.ts";
import type { Delivery, PayloadJob, PayloadResult } from "../store/types.ts";

/**
 * Caps keep the whole payload well under 64 KiB (kind to receivers), and the delivery record
 * that stores it with its attempts within a Deno KV value (64 KiB): the run's response body
 * and headers, and the job's own request body and headers, which the job API allows larger.
 */
export const PAYLOAD_BODY_LIMIT = 16 * 1024;
const PAYLOAD_HEADERS_LIMIT = 8 * 1024;
const PAYLOAD_JOB_BODY_LIMIT = 4 * 1024;
const PAYLOAD_JOB_HEADERS_LIMIT = 4 * 1024;

/** The job as the payload shows it; `now` places `nextRunAt` when there is no run. */
export function payloadJob(stored: JobForRun, run: Run | null, now: number): PayloadJob {
  const { job } = stored;
  const finishedCount = run ? stored.count + 1 : stored.count;
  const lastRunAt = run?.startedAt ??
    (stored.lastRunAt === null ? null : new Date(stored.lastRunAt).toISOString());
  let nextRunAt: string | null = null;
  if (job.enabled) {
    const schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
    const after = run ? Date.parse(run.finishedAt ?? run.scheduledAt) : now;
    const next = nextFireTimes(schedule, after, { limit: 1 })[0];
    nextRunAt = next === undefined ? null : new Date(next).toISOString();
  }
  return {
    id: job.id,
    name: job.name,
    url: job.url,
    method: job.method,
    schedule: job.schedule,
    timezone: job.timezone,
    headers: job.headers === null ? null : capHeaders(job.headers, PAYLOAD_JOB_HEADERS_LIMIT),
    body: job.body === null ? null : capBody(job.body, PAYLOAD_JOB_BODY_LIMIT),
    enabled: job.enabled,
    count: finishedCount,
    lastRunAt,
    nextRunAt,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    userId: job.userId,
  };
}

export function payloadResult(run: Run): PayloadResult {
  return {
    status: run.status === "success" ? "success" : "failure",
    code: run.code,
    response: {
      headers: capHeaders(run.response?.headers ?? {}, PAYLOAD_HEADERS_LIMIT),
      body: capBody(run.response?.body ?? "", PAYLOAD_BODY_LIMIT),
    },
    startedAt: run.startedAt ?? run.scheduledAt,
    finishedAt: run.finishedAt ?? run.scheduledAt,
    durationMs: run.durationMs ?? 0,
    trigger: run.trigger,
  };
}

/** The exact bytes of one attempt. */
export function payloadBytes(delivery: Delivery, sendAt: number): Uint8Array {
  const body: Record<string, unknown> = {
    id: delivery.id,
    job: delivery.payload.job,
    result: delivery.payload.result,
    webhook: { sendAt: new Date(sendAt).toISOString() },
  };
  if (delivery.test) body.test = true;
  return new TextEncoder().encode(JSON.stringify(body));
}

/** The first `limit` bytes of `body` as UTF-8, without a character cut in half. */
function capBody(body: string, limit: number): string {
  if (body.length <= limit / 4) return body;
  const bytes = new TextEncoder().encode(body);
  if (bytes.length <= limit) return body;
  return new TextDecoder().decode(bytes.subarray(0, limit)).replace(/\uFFFD$/, "");
}

function capHeaders(headers: Record<string, string>, limit: number): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    size += name.length + value.length;
    if (size > limit) break;
    out[name] = value;
  }
  return out;
}
