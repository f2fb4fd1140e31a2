/**
 * The contract for maintenance windows (issue 12): an owner's windows, an index of every
 * owner's windows by the last instant they can cover (so the chore that reopens failing jobs
 * when a window ends reads only windows still worth asking), and the cuts: coverage taken away
 * by a change (delete, edit) before the window would have ended by itself.
 */
import type { MaintenanceEnd, MaintenanceWindow } from "../alerts/types.ts";
import type { ListOptions } from "./store.ts";
import type { Page } from "./types.ts";

/** How long a cut is kept: the chore asks about the last minutes, a few days is ample. */
export const CUT_RETENTION_MS = 7 * 86_400_000;

/** A window's new state, and the coverage the change took away now (null: none). */
export interface MaintenanceChange {
  window: MaintenanceWindow;
  cut: MaintenanceEnd | null;
}

export interface MaintenanceStore {
  /** Writes a new window. Throws ConflictError when its id exists. */
  create(window: MaintenanceWindow): Promise<void>;
  get(userId: string, id: string): Promise<MaintenanceWindow | null>;
  /** An owner's windows in id order. */
  list(userId: string, options: ListOptions): Promise<Page<MaintenanceWindow>>;
  /**
   * Compare-and-set change; the cut, if any, is written in the same commit. Throws
   * NotFoundError.
   */
  update(
    userId: string,
    id: string,
    change: (current: MaintenanceWindow) => MaintenanceChange,
  ): Promise<MaintenanceWindow>;
  /**
   * Deletes the window as read, with the cut `cut` returns for it in the same commit; resolves
   * the deleted window. Throws NotFoundError.
   */
  delete(
    userId: string,
    id: string,
    cut: (current: MaintenanceWindow) => MaintenanceEnd | null,
  ): Promise<MaintenanceWindow>;
  /** Every owner's windows that may cover time at or after `from` (see `coverageUntil`). */
  liveSince(from: number): Promise<MaintenanceWindow[]>;
  /** Cuts made in `[from, to)`, oldest first; kept for CUT_RETENTION_MS. */
  cutsBetween(from: number, to: number): Promise<MaintenanceEnd[]>;
}

/**
 * The instant from which a window covers nothing (epoch ms): a one-off window's end, or the
 * time it was ended early if sooner; for a recurring one the time it was ended, else
 * `Number.MAX_SAFE_INTEGER` (it goes on). Stores index windows by it.
 */
export function coverageUntil(window: MaintenanceWindow): number {
  const ended = window.endedAt === null ? Number.MAX_SAFE_INTEGER : Date.parse(window.endedAt);
  if (window.schedule !== null || window.end === null) return ended;
  return Math.min(ended, Date.parse(window.end));
}
