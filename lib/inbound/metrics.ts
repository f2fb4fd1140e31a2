/**
 * Counters of the inbound endpoints, per process, in the Prometheus text format. Kept apart
 * from `lib/metrics.ts` so this module stays self-contained; `/metrics` appends `render()`.
 */
import type { VerifyFailure } from "./verify.ts";

export type ActionOutcome = "success" | "failure" | "failed";

export class InboundMetrics {
  received = 0;
  duplicates = 0;
  /** Stored apart: a known delivery id with another body. */
  conflicts = 0;
  challenges = 0;
  tooLarge = 0;
  readonly rejected: Record<VerifyFailure, number> = {
    missing: 0,
    malformed: 0,
    mismatch: 0,
    expired: 0,
  };
  readonly actions: Record<ActionOutcome, number> = { success: 0, failure: 0, failed: 0 };

  render(): string {
    const lines = [
      "# HELP hibiki_inbound_requests_total Requests to inbound hooks, by outcome.",
      "# TYPE hibiki_inbound_requests_total counter",
      `hibiki_inbound_requests_total{outcome="stored"} ${this.received}`,
      `hibiki_inbound_requests_total{outcome="duplicate"} ${this.duplicates}`,
      `hibiki_inbound_requests_total{outcome="conflict"} ${this.conflicts}`,
      `hibiki_inbound_requests_total{outcome="challenge"} ${this.challenges}`,
      `hibiki_inbound_requests_total{outcome="too_large"} ${this.tooLarge}`,
      "# HELP hibiki_inbound_unverified_total Requests refused by verification, by reason.",
      "# TYPE hibiki_inbound_unverified_total counter",
      ...Object.entries(this.rejected).map(([reason, n]) =>
        `hibiki_inbound_unverified_total{reason="${reason}"} ${n}`
      ),
      "# HELP hibiki_inbound_actions_total Inbound action attempts, by outcome.",
      "# TYPE hibiki_inbound_actions_total counter",
      ...Object.entries(this.actions).map(([outcome, n]) =>
        `hibiki_inbound_actions_total{outcome="${outcome}"} ${n}`
      ),
    ];
    return lines.join("\n") + "\n";
  }
}
