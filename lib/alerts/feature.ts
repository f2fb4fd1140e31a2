/**
 * Builds the alerting core: the engine that decides job states (what the runner and the result
 * ingester call around each run), the incident service the routes call, and the `alert`
 * lane that decides what a dead process left, multi-location intervals at their deadline, and jobs whose maintenance window ended. The
 * engine wakes nothing of its own, so the order is plain: engine, lane, service.
 */
import type { Clock } from "../clock.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { AlertStore, DecideValue } from "../store/alerts.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { Store } from "../store/store.ts";
import { AlertEngine } from "./engine.ts";
import { IncidentService } from "./incidents.ts";
import { noMaintenance } from "./no_maintenance.ts";
import type { MaintenanceCalendar } from "./types.ts";

/** A decision is a read and a commit; a lane item gets half a minute before another takes it. */
const DECIDE_LEASE_MS = 30_000;

export interface AlertsOptions {
  /** Where the alert lane keeps its items. */
  lanes: LaneStore;
  store: Store;
  alerts: AlertStore;
  clock: Clock;
  /** Maintenance windows; none until they are wired in. */
  calendar?: MaintenanceCalendar;
  /** The notification lane's wake, once there is one. */
  onNotification?: (at: number) => void;
}

export interface Alerts {
  engine: AlertEngine;
  incidents: IncidentService;
  lane: Dispatcher<DecideValue>;
}

export function createAlerts(options: AlertsOptions): Alerts {
  const { lanes, store, alerts, clock } = options;
  const calendar = options.calendar ?? noMaintenance;
  const engine = new AlertEngine({
    alerts,
    clock,
    calendar,
    onNotification: options.onNotification,
  });
  const lane = new Dispatcher<DecideValue>({
    lane: "alert",
    store: lanes,
    clock,
    maxConcurrency: 16,
    leaseMs: () => DECIDE_LEASE_MS,
    execute: (item, lease) => engine.execute(item, lease),
  });
  const incidents = new IncidentService({ alerts, store, clock, calendar });
  return { engine, incidents, lane };
}
