/**
 * The worker's side of seed 002: calling `get-monitors-to-check` and `batch-save-results`.
 * How a call travels is an `EdgeCall`: plain `fetch` to Hibiki (`httpCall`, here) or
 * supabase-js's `functions.invoke` through a Supabase project's gateway (`supabaseCall`,
 * lib/worker/supabase_call.ts). A call only hands back the answer's status and body; this
 * module alone turns them into outcomes, so what the worker retries, keeps and logs is the same
 * whichever way the call went.
 */
import type { Monitor } from "../store/types.ts";
import type { CheckResult } from "../store/types.ts";

export const REQUEST_TIMEOUT_MS = 30_000;

export class EdgeCallError extends Error {
  override name = "EdgeCallError";
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * A function's answer: a 2xx with its body parsed, or any other status with the body as text.
 * A call that got no answer throws `unreachable(name, error)` (status 0).
 */
export type EdgeAnswer =
  | { ok: true; data: unknown }
  | { ok: false; status: number; text: string };

export type EdgeCall = (name: string, payload: unknown) => Promise<EdgeAnswer>;

export class EdgeClient {
  constructor(private readonly options: { call: EdgeCall; workerId: string }) {}

  async getMonitors(): Promise<Monitor[]> {
    const body = await this.post("get-monitors-to-check", { worker_id: this.options.workerId });
    return (body as { data: { monitors: Monitor[] } }).data.monitors;
  }

  async sendResults(results: CheckResult[]): Promise<number> {
    const body = await this.post("batch-save-results", { check_results: results });
    return (body as { inserted: number }).inserted;
  }

  private async post(name: string, payload: unknown): Promise<unknown> {
    const answer = await this.options.call(name, payload);
    if (answer.ok) return answer.data;
    throw new EdgeCallError(
      `${name} answered ${answer.status}: ${errorMessage(answer.text)}`,
      answer.status,
    );
  }
}

/** Calls Hibiki's own server (or any host of the functions without a gateway) with fetch. */
export function httpCall(options: { functionsUrl: string; apiKey: string }): EdgeCall {
  return async (name, payload) => {
    let response: Response;
    try {
      response = await fetch(`${options.functionsUrl}/${name}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Pingmon-API-Key": options.apiKey,
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw unreachable(name, error);
    }
    const text = await response.text();
    if (response.ok) return { ok: true, data: JSON.parse(text) };
    return { ok: false, status: response.status, text };
  };
}

/** No answer: Deno's fetch says only "fetch failed" and keeps the reason in its cause. */
export function unreachable(name: string, error: unknown): EdgeCallError {
  const cause = (error as Error)?.cause;
  const reason = cause instanceof Error ? `: ${cause.message}` : "";
  return new EdgeCallError(`Cannot reach ${name}: ${(error as Error)?.message}${reason}`, 0);
}

/**
 * The message of an error answer: seed 002's envelope (`error.message`), its flat form
 * (`error`), a Supabase gateway's `{ code, message }`, else the start of the text.
 */
function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text);
    const message = parsed.error?.message ?? parsed.error ?? parsed.message;
    if (message !== undefined && message !== null) return String(message);
  } catch { /* not JSON: the text itself */ }
  return text.slice(0, 300);
}
