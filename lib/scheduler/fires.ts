/** The shape of claimed fires and how their keys read back. */
import { kvKeys } from "../store/kv/keys.ts";
import type { LeaseRef } from "../store/store.ts";
import type { Trigger } from "../store/types.ts";
import type { QueueItem } from "../lanes/dispatcher.ts";

/** Value of a `["fire", …]` or `["lease", …]` key. */
export interface FireValue {
  trigger: Trigger;
  timeoutMs: number;
  /** Extra environment for a Cloud Run job's execution (from an inbound webhook). */
  env?: { name: string; value: string }[];
}

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

/**
 * The lease of a scheduled fire claimed ahead and not started: it runs out at the fire's own
 * time. Its holder moves it to a run's lease (`leaseMs`) just before starting it; a holder that
 * dies first leaves it to run out on time, and any process then starts the fire.
 */
export function heldLease(at: number, userId: string, jobId: string): Deno.KvKey {
  return kvKeys.lease(at, at, userId, jobId, "local");
}

/**
 * Where a scheduled fire claimed ahead and not started may be: held under its lease, or handed
 * back pending by a process that stopped. Both are withdrawn when its job's schedule changes.
 */
export function claimedFire(at: number, userId: string, jobId: string): LeaseRef[] {
  return [heldLease(at, userId, jobId), kvKeys.fire(at, userId, jobId, "local")];
}

/** How long a started fire stays leased: its request deadline plus room to record the result. */
export function leaseMs(timeoutMs: number): number {
  return timeoutMs + 10_000;
}
