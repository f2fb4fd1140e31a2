/**
 * Validation of `batch-save-results` bodies, answering with seed 002's exact error bodies
 * (this endpoint's errors are `{ "error": … }`, not the envelope the rest of the API uses).
 */
import type { CheckResult } from "../store/types.ts";

export type Parsed =
  | { ok: true; results: CheckResult[] }
  | { ok: false; status: 400; body: { error: string; details?: string } };

export const MAX_RESULTS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const WORKER = /^[A-Za-z0-9_.-]{1,64}$/;
/** Caps keep one stored run well under Deno KV's value limit. */
const MAX_SAMPLE = 4096;
const MAX_ERROR = 2048;
const FORMAT = "Invalid check_result format. Required: monitor_id, worker_id, success";

export function parseResults(body: unknown): Parsed {
  const list = (body as { check_results?: unknown } | null)?.check_results;
  if (!Array.isArray(list) || list.length === 0) {
    return bad("check_results must be a non-empty array");
  }
  if (list.length > MAX_RESULTS) return bad("Too many results. Maximum 1000 per request.");
  const results: CheckResult[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as Record<string, unknown> | null;
    const problem = check(item);
    if (problem) return bad(FORMAT, `check_results[${i}]: ${problem}`);
    const r = item as Record<string, unknown>;
    results.push({
      monitor_id: (r.monitor_id as string).toLowerCase(),
      checked_at: new Date(r.checked_at as string).toISOString(),
      status_code: (r.status_code as number | null | undefined) ?? null,
      response_time_ms: (r.response_time_ms as number | null | undefined) ?? null,
      success: r.success as boolean,
      error_message:
        ((r.error_message as string | null | undefined) ?? null)?.slice(0, MAX_ERROR) ??
          null,
      response_body_sample:
        ((r.response_body_sample as string | null | undefined) ?? null)?.slice(0, MAX_SAMPLE) ??
          null,
      worker_id: r.worker_id as string,
    });
  }
  return { ok: true, results };
}

function check(item: Record<string, unknown> | null): string | null {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "not an object";
  if (item.monitor_id === undefined || item.worker_id === undefined || item.success === undefined) {
    return "monitor_id, worker_id and success are required";
  }
  if (typeof item.monitor_id !== "string" || !UUID.test(item.monitor_id)) {
    return "monitor_id must be a UUID";
  }
  if (typeof item.worker_id !== "string" || !WORKER.test(item.worker_id)) {
    return "worker_id must be 1-64 letters, digits or _.-";
  }
  if (typeof item.success !== "boolean") return "success must be a boolean";
  if (
    typeof item.checked_at !== "string" || !ISO_8601.test(item.checked_at) ||
    Number.isNaN(Date.parse(item.checked_at))
  ) {
    return "checked_at must be an ISO 8601 date-time";
  }
  for (const field of ["status_code", "response_time_ms"]) {
    const v = item[field];
    if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
      return `${field} must be a non-negative number or null`;
    }
  }
  for (const field of ["error_message", "response_body_sample"]) {
    const v = item[field];
    if (v !== undefined && v !== null && typeof v !== "string") {
      return `${field} must be a string or null`;
    }
  }
  return null;
}

function bad(error: string, details?: string): Parsed {
  return { ok: false, status: 400, body: details ? { error, details } : { error } };
}
