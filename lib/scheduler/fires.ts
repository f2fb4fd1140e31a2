/** The shape of claimed fires as the fire lane carries them, and how they read back. */
import type { FireValue } from "../store/types.ts";
import type { QueueItem } from "../lanes/dispatcher.ts";

export type { FireValue };

/** A claimed fire, as the dispatcher hands it to the runner. */
export interface FireTask extends FireValue {
  at: number;
  userId: string;
  jobId: string;
  /** `local` for scheduled fires, `manual-…` for manual runs: the run id is `${at}-${suffix}`. */
  suffix: string;
  /** Taken again after its lease ran out (its process died mid-run). */
  retaken: boolean;
}

export function fireTask(item: QueueItem<FireValue>): FireTask {
  const [userId, jobId, suffix] = item.id as [string, string, string];
  return { ...item.value, at: item.at, userId, jobId, suffix, retaken: item.retaken };
}

/** How long a started fire stays leased: its request deadline plus room to record the result. */
export function leaseMs(timeoutMs: number): number {
  return timeoutMs + 10_000;
}
