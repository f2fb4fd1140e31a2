/**
 * In-process metrics in the Prometheus text format. Counters are per process; gauges that
 * describe shared state (queue depth) are read from the store when scraped.
 */

const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type RunOutcome = "success" | "failure" | "missed" | "skipped";
export type DeliveryOutcome = "success" | "failure" | "dead";
/** Notifications, by what their attempts came to: each one a grouped message lists counts. */
export interface NotificationCounts {
  sent: number;
  failed: number;
  dead: number;
}

export class Metrics {
  readonly runs: Record<RunOutcome, number> = { success: 0, failure: 0, missed: 0, skipped: 0 };
  readonly deliveries: Record<DeliveryOutcome, number> = { success: 0, failure: 0, dead: 0 };
  /** By channel type (`webhook`, `slack`, …). */
  readonly notifications = new Map<string, NotificationCounts>();
  ticks = 0;
  firesClaimed = 0;
  private readonly latenessCounts = new Array<number>(LATENESS_BUCKETS.length + 1).fill(0);
  private latenessSum = 0;
  private latenessCount = 0;

  observeRun(outcome: RunOutcome, lateMs: number | null): void {
    this.runs[outcome]++;
    if (lateMs === null) return;
    const seconds = Math.max(0, lateMs) / 1000;
    let i = 0;
    while (i < LATENESS_BUCKETS.length && seconds > LATENESS_BUCKETS[i]) i++;
    this.latenessCounts[i]++;
    this.latenessSum += seconds;
    this.latenessCount++;
  }

  notificationsOf(channelType: string): NotificationCounts {
    let counts = this.notifications.get(channelType);
    if (!counts) this.notifications.set(channelType, counts = { sent: 0, failed: 0, dead: 0 });
    return counts;
  }

  render(gauges: { pendingFires: number; inFlight: number; openIncidents?: number }): string {
    const lines: string[] = [];
    lines.push("# HELP hibiki_runs_total Runs finished, by outcome.");
    lines.push("# TYPE hibiki_runs_total counter");
    for (const [outcome, n] of Object.entries(this.runs)) {
      lines.push(`hibiki_runs_total{outcome="${outcome}"} ${n}`);
    }
    lines.push("# HELP hibiki_run_start_lateness_seconds Delay from scheduled time to start.");
    lines.push("# TYPE hibiki_run_start_lateness_seconds histogram");
    let cumulative = 0;
    LATENESS_BUCKETS.forEach((bound, i) => {
      cumulative += this.latenessCounts[i];
      lines.push(`hibiki_run_start_lateness_seconds_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += this.latenessCounts[LATENESS_BUCKETS.length];
    lines.push(`hibiki_run_start_lateness_seconds_bucket{le="+Inf"} ${cumulative}`);
    lines.push(`hibiki_run_start_lateness_seconds_sum ${this.latenessSum}`);
    lines.push(`hibiki_run_start_lateness_seconds_count ${this.latenessCount}`);
    lines.push("# HELP hibiki_queue_depth Fires due and not yet started, plus runs in flight.");
    lines.push("# TYPE hibiki_queue_depth gauge");
    lines.push(`hibiki_queue_depth{state="due"} ${gauges.pendingFires}`);
    lines.push(`hibiki_queue_depth{state="running"} ${gauges.inFlight}`);
    lines.push("# HELP hibiki_deliveries_total Webhook delivery attempts, by outcome.");
    lines.push("# TYPE hibiki_deliveries_total counter");
    for (const [outcome, n] of Object.entries(this.deliveries)) {
      lines.push(`hibiki_deliveries_total{outcome="${outcome}"} ${n}`);
    }
    lines.push(
      "# HELP hibiki_notifications_total Notifications by channel type and what an attempt came to.",
    );
    lines.push("# TYPE hibiki_notifications_total counter");
    for (const [type, counts] of [...this.notifications].sort(([a], [b]) => a < b ? -1 : 1)) {
      for (const [outcome, n] of Object.entries(counts)) {
        lines.push(`hibiki_notifications_total{type="${type}",outcome="${outcome}"} ${n}`);
      }
    }
    if (gauges.openIncidents !== undefined) {
      lines.push("# HELP hibiki_open_incidents Incidents open now, across every owner.");
      lines.push("# TYPE hibiki_open_incidents gauge");
      lines.push(`hibiki_open_incidents ${gauges.openIncidents}`);
    }
    const memory = Deno.memoryUsage();
    lines.push("# HELP hibiki_process_memory_bytes Memory of this process, by kind.");
    lines.push("# TYPE hibiki_process_memory_bytes gauge");
    for (const kind of ["rss", "heapTotal", "heapUsed", "external"] as const) {
      lines.push(`hibiki_process_memory_bytes{kind="${kind}"} ${memory[kind]}`);
    }
    lines.push("# HELP hibiki_scheduler_ticks_total Scheduler ticks run.");
    lines.push("# TYPE hibiki_scheduler_ticks_total counter");
    lines.push(`hibiki_scheduler_ticks_total ${this.ticks}`);
    lines.push("# HELP hibiki_fires_claimed_total Fire times claimed by this process.");
    lines.push("# TYPE hibiki_fires_claimed_total counter");
    lines.push(`hibiki_fires_claimed_total ${this.firesClaimed}`);
    return lines.join("\n") + "\n";
  }
}
