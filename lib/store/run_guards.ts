/** What every store checks of runs written together (`Store.recordRuns`). */
import type { RunCompletion } from "./store.ts";

/** Guards belong to a run written alone (a heartbeat ping): refused in a batch. */
export function refuseGuards(completions: readonly RunCompletion[]): void {
  if (completions.some((c) => c.guards !== undefined)) {
    throw new TypeError("Cannot record runs with guards together: record each with recordRun");
  }
}
