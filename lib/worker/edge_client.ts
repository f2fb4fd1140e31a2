/** The worker's side of seed 002: calling `get-monitors-to-check` and `batch-save-results`. */
import type { Monitor } from "../store/types.ts";
import type { CheckResult } from "../store/types.ts";

const REQUEST_TIMEOUT_MS = 30_000;

export class EdgeCallError extends Error {
  override name = "EdgeCallError";
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export class EdgeClient {
  constructor(
    private readonly options: { functionsUrl: string; apiKey: string; workerId: string },
  ) {}

  async getMonitors(): Promise<Monitor[]> {
    const body = await this.post("get-monitors-to-check", { worker_id: this.options.workerId });
    return (body as { data: { monitors: Monitor[] } }).data.monitors;
  }

  async sendResults(results: CheckResult[]): Promise<number> {
    const body = await this.post("batch-save-results", { check_results: results });
    return (body as { inserted: number }).inserted;
  }

  private async post(name: string, payload: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.options.functionsUrl}/${name}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Pingmon-API-Key": this.options.apiKey,
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new EdgeCallError(`Cannot reach ${name}: ${(error as Error).message}`, 0);
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text);
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text);
      message = parsed.error?.message ?? parsed.error ?? message;
    } catch { /* not JSON: keep the text */ }
    throw new EdgeCallError(`${name} answered ${response.status}: ${message}`, response.status);
  }
}
