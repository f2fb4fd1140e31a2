/**
 * The probe worker: refreshes its monitor list from Hibiki, checks each monitor at its
 * offsets on its own clock with the same probe as the server (deadline, body cap,
 * expectations, SSRF guard), keeps every result in a local outbox, and sends them in
 * batches of at most 1000, retrying with backoff and jitter while Hibiki is unreachable.
 */
import { isCheckTime } from "../edge/monitor.ts";
import { type Monitor } from "../store/types.ts";
import type { CheckResult } from "../store/types.ts";
import {
  probe as sendProbe,
  type ProbeOptions,
  type ProbeRequest,
  type ProbeResult,
} from "../net/probe.ts";
import type { HttpMethod } from "../store/types.ts";
import { EdgeCallError, type EdgeClient } from "./edge_client.ts";
import type { ResultOutbox } from "./result_outbox.ts";
import type { WorkerConfig } from "./worker_config.ts";

const BATCH_MAX = 1000;
const SAMPLE_CHARS = 500;
const MAX_IN_FLIGHT = 1000;

export interface ProbeWorkerOptions {
  config: WorkerConfig;
  client: EdgeClient;
  outbox: ResultOutbox;
  probe?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  log?: (message: string) => void;
}

export class ProbeWorker {
  private monitors: Monitor[] = [];
  private timers: ReturnType<typeof setTimeout>[] = [];
  private running = false;
  private inFlight = new Set<Promise<void>>();
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private readonly probe: NonNullable<ProbeWorkerOptions["probe"]>;
  private readonly log: (message: string) => void;

  constructor(private readonly options: ProbeWorkerOptions) {
    this.probe = options.probe ?? sendProbe;
    this.log = options.log ?? ((m) => console.log(`[${options.config.workerId}] ${m}`));
  }

  async start(): Promise<void> {
    this.running = true;
    await this.refresh();
    this.every(this.options.config.refreshMs, () => this.refresh());
    this.scheduleSecond();
    this.scheduleFlush(0);
  }

  /** Stops checking, lets checks in flight finish, and tries one last send. */
  async stop(): Promise<void> {
    this.running = false;
    this.timers.forEach(clearTimeout);
    this.timers = [];
    await Promise.all(this.inFlight);
    await this.flushing;
    await this.flush().catch(() => {});
  }

  get monitorCount(): number {
    return this.monitors.length;
  }

  private async refresh(): Promise<void> {
    try {
      this.monitors = await this.options.client.getMonitors();
      this.log(`Checking ${this.monitors.length} monitors`);
    } catch (error) {
      if (error instanceof EdgeCallError && (error.status === 403 || error.status === 404)) {
        // Deactivated or removed: stop checking until Hibiki says otherwise.
        this.monitors = [];
      }
      this.log(`Cannot refresh monitors: ${(error as Error).message}`);
    }
  }

  private every(ms: number, task: () => Promise<void>): void {
    const loop = () => {
      if (!this.running) return;
      this.timers.push(setTimeout(async () => {
        await task();
        loop();
      }, ms));
    };
    loop();
  }

  /** Wakes just after each whole second and starts the checks due at it. */
  private scheduleSecond(): void {
    if (!this.running) return;
    const delay = 1000 - (Date.now() % 1000) + 1;
    this.timers.push(setTimeout(() => {
      const second = Math.floor(Date.now() / 1000);
      for (const monitor of this.monitors) {
        const offset = monitor.check_minute * 60 + monitor.check_second;
        if (isCheckTime(second, offset, monitor.check_interval_seconds)) this.check(monitor);
      }
      this.scheduleSecond();
    }, delay));
  }

  private check(monitor: Monitor): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.log(`Skipping a check of ${monitor.monitor_id}: ${MAX_IN_FLIGHT} checks in flight`);
      return;
    }
    const task = this.runCheck(monitor).catch((error) =>
      this.log(`Cannot record a check of ${monitor.monitor_id}: ${(error as Error).message}`)
    ).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async runCheck(monitor: Monitor): Promise<void> {
    const checkedAt = new Date().toISOString();
    const result = await this.probe(
      {
        url: monitor.url,
        method: monitor.method as HttpMethod,
        headers: monitor.headers,
        body: monitor.body,
        timeoutMs: monitor.timeout_seconds * 1000,
      },
      {
        allowPrivate: this.options.config.allowPrivateNetworks,
        expect: {
          ...(monitor.expected_status_code === null
            ? {}
            : { status: monitor.expected_status_code }),
          ...(monitor.expected_body_contains === null
            ? {}
            : { bodyContains: monitor.expected_body_contains }),
        },
        userAgent: `Hibiki-Worker/1.0 (${this.options.config.workerId})`,
      },
    );
    const check: CheckResult = {
      monitor_id: monitor.monitor_id,
      checked_at: checkedAt,
      status_code: result.code === 0 ? null : result.code,
      response_time_ms: result.durationMs,
      success: result.success,
      error_message: result.error?.message ?? result.failure,
      response_body_sample: result.body.slice(0, SAMPLE_CHARS),
      worker_id: this.options.config.workerId,
    };
    await this.options.outbox.add(check);
  }

  private scheduleFlush(delay: number): void {
    if (!this.running) return;
    this.timers.push(setTimeout(() => {
      this.flushing = this.flush().then(
        () => {
          this.failures = 0;
          this.scheduleFlush(this.options.config.flushMs);
        },
        (error) => {
          this.failures++;
          const wait = Math.round(
            retryBackoffMs(this.failures, this.options.config.retryMaxMs) * (0.5 + Math.random()),
          );
          this.log(`Cannot send results (retrying in ${wait} ms): ${(error as Error).message}`);
          this.scheduleFlush(wait);
        },
      ).finally(() => (this.flushing = null));
    }, delay));
  }

  /** Sends everything waiting, 1000 at a time; a failure leaves the rest for later. */
  private async flush(): Promise<void> {
    for (;;) {
      const { keys, results } = await this.options.outbox.take(BATCH_MAX);
      if (results.length === 0) return;
      const inserted = await this.options.client.sendResults(results);
      await this.options.outbox.remove(keys);
      this.log(`Sent ${inserted} results`);
      if (results.length < BATCH_MAX) return;
    }
  }
}

/**
 * The wait before the next send after `failures` failed ones, before jitter: doubling from 1 s
 * up to `maxMs` (2^12 s passes WORKER_RETRY_MAX_SECONDS's largest value, 3600).
 */
export function retryBackoffMs(failures: number, maxMs: number): number {
  return Math.min(maxMs, 1000 * 2 ** Math.min(failures, 12));
}
