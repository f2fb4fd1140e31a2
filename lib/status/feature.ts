/**
 * Builds status pages (issue 13): the owner's service behind `/api/status-pages` and the board
 * the public pages read. The change log is made by the caller before alerting, which notes
 * state changes in it; a page's own edits drop what the board built for it.
 */
import type { Clock } from "../clock.ts";
import type { MaintenanceCalendar } from "../alerts/types.ts";
import type { AlertStore } from "../store/alerts.ts";
import type { StatusPageStore } from "../store/status_pages.ts";
import type { ChangeLog } from "./changes.ts";
import { StatusBoard } from "./status_board.ts";
import { StatusPageService } from "./status_pages.ts";

export interface StatusPagesOptions {
  store: StatusPageStore;
  alerts: AlertStore;
  calendar: MaintenanceCalendar;
  clock: Clock;
  changes: ChangeLog;
  jobExists: (userId: string, jobId: string) => Promise<boolean>;
  /** How long a built page is served (status_board.ts); tests shorten or lengthen it. */
  ttlMs?: number;
}

export interface StatusPages {
  service: StatusPageService;
  board: StatusBoard;
}

export function createStatusPages(options: StatusPagesOptions): StatusPages {
  const board = new StatusBoard({
    pages: options.store,
    alerts: options.alerts,
    calendar: options.calendar,
    clock: options.clock,
    changes: options.changes,
    ttlMs: options.ttlMs,
  });
  const service = new StatusPageService({
    store: options.store,
    clock: options.clock,
    jobExists: options.jobExists,
    onChange: (slugs) => board.forget(slugs),
  });
  return { service, board };
}
