/** Calls of seed 002's two functions, for the edge API's tests. */
import { T0, type TestSystem } from "./helpers.ts";

/** POSTs `body` to `/functions/v1/<name>` with the worker key (none when `key` is null). */
export async function callEdge(
  t: TestSystem,
  name: string,
  body: unknown,
  key: string | null,
) {
  const response = await t.system.app.request(`/functions/v1/${name}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(key === null ? {} : { "X-Pingmon-API-Key": key }),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** One check result as a worker sends it: a passing check by aws-tyo1a at T0. */
export function checkResult(monitorId: string, fields: Record<string, unknown> = {}) {
  return {
    monitor_id: monitorId,
    checked_at: new Date(T0).toISOString(),
    status_code: 200,
    response_time_ms: 85,
    success: true,
    error_message: null,
    response_body_sample: '{"status":"ok"}',
    worker_id: "aws-tyo1a",
    ...fields,
  };
}
