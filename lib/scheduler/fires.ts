/** The shape of claimed fires and how their keys read back. */
import type { Trigger } from "../store/types.ts";

/** Value of a `["fire", …]` or `["lease", …]` key. */
export interface FireValue {
  trigger: Trigger;
  timeoutMs: number;
}

/** A claimed fire, as the dispatcher hands it to the runner. */
export interface FireTask extends FireValue {
  at: number;
  userId: string;
  jobId: string;
  /** `local` for scheduled fires, `manual-…` for manual runs: the run id is `${at}-${suffix}`. */
  suffix: string;
}

export function fireFromKey(key: Deno.KvKey, value: FireValue): FireTask {
  const [, at, userId, jobId, suffix] = key as [string, number, string, string, string];
  return { ...value, at, userId, jobId, suffix };
}

export function fireFromLeaseKey(key: Deno.KvKey, value: FireValue): FireTask {
  const [, , at, userId, jobId, suffix] = key as [string, number, number, string, string, string];
  return { ...value, at, userId, jobId, suffix };
}

/** How long a fire stays leased: its request deadline plus room to record the result. */
export function leaseMs(timeoutMs: number): number {
  return timeoutMs + 10_000;
}
