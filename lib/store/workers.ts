/** The contract for probe workers (seed 002) and the monitors each one checks. */
import type { CheckResult, Monitor, Worker } from "./types.ts";

/** A monitor as a worker's list holds it, with the owner of its job. */
export interface MonitorEntry {
  userId: string;
  monitor: Monitor;
}

export interface WorkerStore {
  /** Throws ConflictError when a worker with that id exists. */
  create(worker: Worker): Promise<void>;
  /** The worker with `last_seen_at` from its latest call; null for an id no worker can have. */
  get(workerId: string): Promise<Worker | null>;
  list(): Promise<Worker[]>;
  /** Compare-and-set change; throws NotFoundError when there is no such worker. */
  update(workerId: string, change: (worker: Worker) => Worker): Promise<Worker>;
  /** Records that the worker called in at `now` (keeps the latest time; never conflicts). */
  touch(workerId: string, now: number): Promise<void>;
  /** The monitors assigned to the worker (written with their jobs by `Store`). */
  listMonitors(workerId: string): Promise<MonitorEntry[]>;
  /**
   * The owners, by monitor id, of those of `monitorIds` that are assigned to the worker (an
   * enabled job's monitor): only results for these are stored. Asked for the monitors a batch
   * of results names, so that checking a batch costs what the batch holds, not the worker's
   * whole list.
   */
  monitorOwners(workerId: string, monitorIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Stores accepted results durably, queued at `at` to be turned into runs (the results
   * lane). Throws when they could not be stored: then nothing may be acknowledged.
   */
  queueResults(results: CheckResult[], at: number): Promise<void>;
}
