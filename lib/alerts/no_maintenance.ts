/**
 * A maintenance calendar without windows: what alerting uses until the maintenance windows
 * (lib/alerts/maintenance.ts) are wired in, and in tests that need none.
 */
import type { MaintenanceCalendar } from "./types.ts";

export const noMaintenance: MaintenanceCalendar = {
  coveringAt: () => Promise.resolve(null),
  spans: () => Promise.resolve([]),
};
