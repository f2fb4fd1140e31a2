/** Turning a job's requested workers into assignments with check offsets. */
import { ValidationError } from "../errors.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { WorkerAssignment } from "../store/types.ts";
import { spreadOffsets } from "./monitor.ts";

export interface RequestedWorker {
  workerId: string;
  checkMinute?: number;
  checkSecond?: number;
}

/** The seed's check_minute/check_second cannot place a check more than an hour in. */
const MAX_WORKER_INTERVAL_SEC = 3600;

/**
 * Validates the requested workers against the job's schedule and gives offsets to those
 * that have none. `exists` says whether a worker id is registered.
 */
export function assignWorkers(
  requested: RequestedWorker[],
  schedule: Schedule,
  exists: (workerId: string) => boolean,
): WorkerAssignment[] {
  if (requested.length === 0) return [];
  if (schedule.kind !== "interval" || schedule.everyMs > MAX_WORKER_INTERVAL_SEC * 1000) {
    throw new ValidationError(
      "workers need an interval schedule of at most 1 hour, such as @every 5m",
      "workers",
    );
  }
  const intervalSec = schedule.everyMs / 1000;
  const seen = new Set<string>();
  for (const r of requested) {
    if (seen.has(r.workerId)) {
      throw new ValidationError(`workers lists "${r.workerId}" twice`, "workers");
    }
    seen.add(r.workerId);
    if (!exists(r.workerId)) {
      throw new ValidationError(`workers names an unknown worker "${r.workerId}"`, "workers");
    }
    if ((r.checkMinute === undefined) !== (r.checkSecond === undefined)) {
      throw new ValidationError(
        `workers entry "${r.workerId}" must give both checkMinute and checkSecond, or neither`,
        "workers",
      );
    }
    if (r.checkMinute !== undefined && r.checkMinute * 60 + r.checkSecond! >= intervalSec) {
      throw new ValidationError(
        `workers entry "${r.workerId}" checks at ${r.checkMinute}:${r.checkSecond}, ` +
          `beyond the ${intervalSec} s interval`,
        "workers",
      );
    }
  }
  const spread = spreadOffsets(requested.length, intervalSec, schedule.phaseMs / 1000);
  return requested.map((r, i) => {
    const offset = r.checkMinute === undefined ? spread[i] : r.checkMinute * 60 + r.checkSecond!;
    return { workerId: r.workerId, checkMinute: Math.floor(offset / 60), checkSecond: offset % 60 };
  });
}
