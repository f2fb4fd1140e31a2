/**
 * The edge API behind seed 002's two functions. Accepting results is made cheap on purpose:
 * a batch is checked against the worker's record and its monitors (those the batch names, in
 * one read: Deno KV keeps the worker's list in memory, Postgres looks them up by key), its
 * valid results are written durably as a few chunk records and acknowledged;
 * storing each result as a run of its job (with counters, retention and webhooks) happens
 * from a queue right after. That is how a top-of-the-hour burst of results is absorbed
 * without making workers wait, and a crash between the two steps loses nothing.
 *
 * The worker key is shared by every worker, so it proves nothing about who sent a result:
 * a result is kept only when its `worker_id` is a registered, active worker that has the
 * monitor (an enabled job assigned to it), and its `checked_at` is plausible.
 */
import type { Clock } from "../clock.ts";
import type { CheckResult, Monitor } from "../store/types.ts";
import type { WorkerStore } from "../store/workers.ts";

/** How far a worker's clock may run ahead of ours: a result from further ahead is dropped. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Ids named in a log line about dropped results, at most. */
const LOGGED_IDS = 3;

export class EdgeError extends Error {
  override name = "EdgeError";
  constructor(readonly status: 403 | 404, readonly code: string, message: string) {
    super(message);
  }
}

export interface EdgeServiceOptions {
  workers: WorkerStore;
  clock: Clock;
  /** Runs older than this are pruned (run retention): older results are not stored. */
  maxAgeMs: number;
  /** Told when accepted results wait to be stored. */
  onAccepted: () => void;
}

export class EdgeService {
  constructor(private readonly options: EdgeServiceOptions) {}

  /** The active monitors assigned to an active worker. */
  async monitorsFor(workerId: string): Promise<Monitor[]> {
    const { workers, clock } = this.options;
    const worker = await workers.get(workerId);
    if (!worker) throw new EdgeError(404, "WORKER_NOT_FOUND", "Worker not found");
    await workers.touch(workerId, clock.now());
    if (!worker.is_active) throw new EdgeError(403, "WORKER_INACTIVE", "Worker is not active");
    return (await workers.listMonitors(workerId)).map((entry) => entry.monitor);
  }

  /**
   * Stores the results of a batch that may be stored, durably; returns how many it stored
   * and what it left out. Throws the seed's 404 or 403 when no item names an active worker.
   */
  async accept(results: CheckResult[]): Promise<Accepted> {
    const { clock, maxAgeMs } = this.options;
    const now = clock.now();
    const assigned = await this.assignedMonitors(results, now);
    const kept: CheckResult[] = [];
    const runs = new Set<string>();
    const dropped = new Dropped();
    for (const result of results) {
      const monitors = assigned.get(result.worker_id);
      const at = Date.parse(result.checked_at);
      // The run a result becomes: the same check listed twice is one run, counted once.
      const run = `${result.monitor_id} ${result.worker_id} ${at}`;
      if (!monitors) dropped.worker(result.worker_id);
      else if (!monitors.has(result.monitor_id)) dropped.unassigned(result.monitor_id);
      else if (at > now + MAX_CLOCK_SKEW_MS || at < now - maxAgeMs) dropped.implausible();
      else if (runs.has(run)) dropped.repeated();
      else {
        runs.add(run);
        kept.push(result);
      }
    }
    if (kept.length > 0) {
      await this.options.workers.queueResults(kept, now);
      this.options.onAccepted();
    }
    return {
      inserted: kept.length,
      monitors: new Set(kept.map((r) => r.monitor_id)).size,
      dropped: dropped.describe(),
    };
  }

  /**
   * The monitors (id → owner) of each active worker the batch names. A batch in which no
   * item names an active worker is refused whole, with the seed's answer for the first
   * item's worker; in a batch mixing workers (a worker sends only its own results, so
   * only a misconfigured or forged batch does), the items of the others are dropped.
   */
  private async assignedMonitors(
    results: CheckResult[],
    now: number,
  ): Promise<Map<string, Map<string, string>>> {
    const { workers } = this.options;
    const ids = [...new Set(results.map((r) => r.worker_id))];
    const found = await Promise.all(ids.map((id) => workers.get(id)));
    // Only registered workers are marked as seen: an unknown name leaves no record behind.
    await Promise.all(ids.filter((_, i) => found[i]).map((id) => workers.touch(id, now)));
    const assigned = new Map<string, Map<string, string>>();
    for (const [i, worker] of found.entries()) {
      if (!worker?.is_active) continue;
      const named = results.filter((r) => r.worker_id === ids[i]).map((r) => r.monitor_id);
      assigned.set(ids[i], await workers.monitorOwners(ids[i], named));
    }
    if (assigned.size > 0) return assigned;
    if (!found[0]) throw new EdgeError(404, "WORKER_NOT_FOUND", "Worker not found");
    throw new EdgeError(403, "WORKER_INACTIVE", "Worker is not active");
  }
}

export interface Accepted {
  /** Results stored (seed 002's 保存された件数): those that passed every check. */
  inserted: number;
  /** Distinct monitors among them. */
  monitors: number;
  /** What was left out and why, for the log; null when nothing was. */
  dropped: string | null;
}

/** Tallies the results left out of a batch, for one bounded log line. */
class Dropped {
  private workers = new Set<string>();
  private fromWorkers = 0;
  private monitors = new Set<string>();
  private notAssigned = 0;
  private outOfRange = 0;
  private repeats = 0;

  worker(workerId: string): void {
    this.fromWorkers++;
    this.workers.add(workerId);
  }

  unassigned(monitorId: string): void {
    this.notAssigned++;
    this.monitors.add(monitorId);
  }

  implausible(): void {
    this.outOfRange++;
  }

  repeated(): void {
    this.repeats++;
  }

  describe(): string | null {
    const parts: string[] = [];
    if (this.fromWorkers > 0) {
      parts.push(`${this.fromWorkers} of unknown or inactive workers (${sample(this.workers)})`);
    }
    if (this.notAssigned > 0) {
      parts.push(
        `${this.notAssigned} for monitors the worker does not have (${sample(this.monitors)})`,
      );
    }
    if (this.outOfRange > 0) {
      parts.push(`${this.outOfRange} with checked_at in the future or past the run retention`);
    }
    if (this.repeats > 0) parts.push(`${this.repeats} repeated in the batch`);
    const total = this.fromWorkers + this.notAssigned + this.outOfRange + this.repeats;
    return total === 0 ? null : `Dropped ${total} check results: ${parts.join(", ")}`;
  }
}

/** A few of the ids (validated to UUIDs and worker names by the parser), never all. */
function sample(ids: Set<string>): string {
  const shown = [...ids].slice(0, LOGGED_IDS).join(", ");
  return ids.size > LOGGED_IDS ? `${shown} and ${ids.size - LOGGED_IDS} more` : shown;
}
