/**
 * A heartbeat job's fire: at T + grace, looks for a success ping in T's window (window.ts)
 * and, when none came, gives the failing run the fire records through `Store.recordRun`, like
 * any failed run. A ping arriving later is a success run of its own and so resolves it.
 */
import { formatLocal } from "../jobs/jobs.ts";
import type { HeartbeatStore } from "../store/heartbeats.ts";
import { runId } from "../store/run_id.ts";
import type { Job, Run } from "../store/types.ts";
import { expectedSchedule, windowStart } from "./window.ts";

export class LateCheck {
  constructor(private readonly heartbeats: HeartbeatStore) {}

  /**
   * The late run of the fire at `fireAt` (T + grace), or null when a success ping answered T
   * or T's window opened before the job's checks began (see `HeartbeatSpec.checksFrom`).
   */
  async lateRun(job: Job, fire: { at: number; suffix: string }, now: number): Promise<Run | null> {
    const spec = job.heartbeat;
    if (!spec) throw new TypeError(`Cannot check pings: job "${job.id}" is not a heartbeat`);
    const graceMs = spec.graceSeconds * 1000;
    const expectedAt = fire.at - graceMs;
    const from = windowStart(expectedSchedule(job), expectedAt);
    if (from < spec.checksFrom) return null;
    if (await this.heartbeats.successPingBetween(job.userId, job.id, { from, to: fire.at })) {
      return null;
    }
    const stamp = new Date(now).toISOString();
    const message = `No ping by ${formatLocal(fire.at, job.timezone)}: expected at ${
      formatLocal(expectedAt, job.timezone)
    }, grace ${spec.graceSeconds}s`;
    return {
      id: runId(fire.at, fire.suffix),
      jobId: job.id,
      userId: job.userId,
      where: "local",
      trigger: "AUTO",
      status: "failure",
      code: 0,
      scheduledAt: new Date(fire.at).toISOString(),
      startedAt: stamp,
      finishedAt: stamp,
      durationMs: null,
      lateMs: Math.max(0, now - fire.at),
      response: null,
      error: { category: "late", message },
      failure: null,
    };
  }
}
