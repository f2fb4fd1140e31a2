/**
 * Maintenance windows (issue 12): the service behind `/api/maintenance` (create, list, read,
 * change, delete, end early) and the calendar alerting asks (`WindowCalendar`: `coveringAt`,
 * `spans`, `endsBetween`). Covered jobs still run and record results; the state engine asks
 * the calendar and opens no incident, and uptime leaves the covered spans out.
 *
 * Ending early (`end`) stops a one-off window now and a recurring one for good: it is the
 * switch for "the work is done, watch again", and Uptime Kuma's users know it as pausing a
 * maintenance, which also stops its later occurrences. Changing the window's timing later
 * (start, end, schedule, duration, zone) sets it going again.
 */
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { ListOptions } from "../store/store.ts";
import type { Page } from "../store/types.ts";
import { coverageUntil, type MaintenanceStore } from "../store/maintenance.ts";
import { WindowCalendar } from "./maintenance_calendar.ts";
import { parseWindowInput, parseWindowPatch } from "./maintenance_input.ts";
import { WindowCoverage } from "./maintenance_window.ts";
import type { MaintenanceEnd, MaintenanceWindow } from "./types.ts";

export { CALENDAR_TTL_MS, WindowCalendar } from "./maintenance_calendar.ts";

/** An owner's windows at most, ended ones included: the calendar keeps them all in memory. */
export const MAX_WINDOWS_PER_OWNER = 200;

/** A window as the API shows it: the record, and where it stands now. */
export interface MaintenanceView extends MaintenanceWindow {
  /** `active`: covering now; `scheduled`: an occurrence is to come; `ended`: none is. */
  status: "active" | "scheduled" | "ended";
  /** The occurrence covering now, else the next one (ISO 8601); null when none is left. */
  occurrence: { start: string; end: string } | null;
}

export interface MaintenanceOptions {
  store: MaintenanceStore;
  clock: Clock;
  /** Whether the user has the job: a window names only its owner's jobs. */
  jobExists: (userId: string, jobId: string) => Promise<boolean>;
  /** How long the calendar trusts an owner's windows read from the store. */
  calendarTtlMs?: number;
}

export interface Maintenance {
  service: MaintenanceService;
  calendar: WindowCalendar;
}

export function createMaintenance(options: MaintenanceOptions): Maintenance {
  const calendar = new WindowCalendar({
    store: options.store,
    clock: options.clock,
    ttlMs: options.calendarTtlMs,
  });
  return { service: new MaintenanceService({ ...options, calendar }), calendar };
}

export class MaintenanceService {
  constructor(private readonly options: MaintenanceOptions & { calendar: WindowCalendar }) {}

  async list(userId: string, page: ListOptions): Promise<Page<MaintenanceView>> {
    const found = await this.options.store.list(userId, page);
    return { values: found.values.map((w) => this.view(w)), cursor: found.cursor };
  }

  async get(userId: string, id: string): Promise<MaintenanceView> {
    return this.view(await this.record(userId, id));
  }

  async create(userId: string, body: unknown): Promise<MaintenanceView> {
    const now = this.options.clock.now();
    const id = `mw_${crypto.randomUUID().replaceAll("-", "")}`;
    const fields = parseWindowInput(body, { now, id });
    await this.checkJobs(userId, fields.jobIds, []);
    const existing = await this.options.store.list(userId, { limit: MAX_WINDOWS_PER_OWNER });
    if (existing.values.length >= MAX_WINDOWS_PER_OWNER) {
      throw new ConflictError(
        `Cannot create maintenance window: ${MAX_WINDOWS_PER_OWNER} exist, delete ended ones first`,
      );
    }
    const stamp = new Date(now).toISOString();
    const window: MaintenanceWindow = {
      id,
      userId,
      ...fields,
      endedAt: null,
      createdAt: stamp,
      updatedAt: stamp,
    };
    await this.options.store.create(window);
    this.options.calendar.invalidate(userId);
    return this.view(window);
  }

  /** With `ifUpdatedAt` (an edit form's copy), a window changed since is not saved. */
  async update(
    userId: string,
    id: string,
    body: unknown,
    options: { ifUpdatedAt?: string } = {},
  ): Promise<MaintenanceView> {
    const unchanged = (window: MaintenanceWindow) => {
      if (options.ifUpdatedAt !== undefined && window.updatedAt !== options.ifUpdatedAt) {
        throw new ConflictError(
          `Cannot save maintenance window "${window.name}": it was changed meanwhile, ` +
            "reload it and try again",
        );
      }
    };
    const current = await this.record(userId, id);
    unchanged(current);
    const now = this.options.clock.now();
    const { fields } = parseWindowPatch(body, current, { now });
    await this.checkJobs(userId, fields.jobIds, current.jobIds);
    const next = await this.options.store.update(userId, id, (stored) => {
      unchanged(stored);
      // Parsed again against the stored version: the patch applies to what is there now.
      const { fields, timing } = parseWindowPatch(body, stored, { now });
      const window: MaintenanceWindow = {
        ...stored,
        ...fields,
        // A new plan for the window sets it going again after it was ended.
        endedAt: timing ? null : stored.endedAt,
        updatedAt: new Date(now).toISOString(),
      };
      return { window, cut: cutBetween(stored, window, now) };
    });
    this.options.calendar.invalidate(userId);
    return this.view(next);
  }

  async delete(userId: string, id: string): Promise<void> {
    const now = this.options.clock.now();
    await this.options.store.delete(userId, id, (stored) => cutBetween(stored, null, now));
    this.options.calendar.invalidate(userId);
  }

  /** Ends the window now: a one-off stops, a recurring one stops for good. Ended: unchanged. */
  async end(userId: string, id: string): Promise<MaintenanceView> {
    const now = this.options.clock.now();
    const stamp = new Date(now).toISOString();
    // The span that ends now is found by `endsBetween` as any span's end is: no cut needed.
    const next = await this.options.store.update(userId, id, (stored) => ({
      window: coverageUntil(stored) <= now
        ? stored
        : { ...stored, endedAt: stamp, updatedAt: stamp },
      cut: null,
    }));
    this.options.calendar.invalidate(userId);
    return this.view(next);
  }

  private async record(userId: string, id: string): Promise<MaintenanceWindow> {
    const window = await this.options.store.get(userId, id);
    if (!window) throw new NotFoundError(`Maintenance window "${id}" not found`);
    return window;
  }

  /** Jobs newly named must be the owner's; ones named before may have been deleted since. */
  private async checkJobs(userId: string, jobIds: string[], known: string[]): Promise<void> {
    const before = new Set(known);
    const added = jobIds.filter((jobId) => !before.has(jobId));
    const exists = await Promise.all(added.map((j) => this.options.jobExists(userId, j)));
    const missing = added.find((_, i) => !exists[i]);
    if (missing !== undefined) throw new NotFoundError(`Job "${missing}" not found`);
  }

  private view(window: MaintenanceWindow): MaintenanceView {
    const now = this.options.clock.now();
    const coverage = this.options.calendar.coverage(window);
    const occurrence = coverage.occurrenceAt(now);
    return {
      ...window,
      status: occurrence === null ? "ended" : occurrence[0] <= now ? "active" : "scheduled",
      occurrence: occurrence && {
        start: new Date(occurrence[0]).toISOString(),
        end: new Date(occurrence[1]).toISOString(),
      },
    };
  }
}

/**
 * The coverage a change takes away at `now`: the jobs `before` covered then that `after` (null:
 * deleted) does not. With `before` covering every job and `after` some, it is every job: the
 * engine asks `coveringAt` for each anyway.
 */
export function cutBetween(
  before: MaintenanceWindow,
  after: MaintenanceWindow | null,
  now: number,
): MaintenanceEnd | null {
  if (new WindowCoverage(before).coverEndAt(now) === null) return null;
  const base = { userId: before.userId, windowId: before.id, at: now };
  if (after === null || new WindowCoverage(after).coverEndAt(now) === null) {
    return { ...base, all: before.all, jobIds: before.all ? [] : before.jobIds };
  }
  if (after.all) return null;
  if (before.all) return { ...base, all: true, jobIds: [] };
  const kept = new Set(after.jobIds);
  const lost = before.jobIds.filter((jobId) => !kept.has(jobId));
  return lost.length === 0 ? null : { ...base, all: false, jobIds: lost };
}
