/**
 * Builds the alerting core: the engine that decides job states (what the runner and the result
 * ingester call around each run), the incident service the routes call, and the alert lane
 * (`["alert_decide_due"]`, `["alert_decide_lease"]`) that decides what a dead process left,
 * multi-location intervals at their deadline, and jobs whose maintenance window ended. The
 * engine wakes nothing of its own, so the order is plain: engine, lane, service.
 */
import type { Clock } from "../clock.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { AlertStore, DecideValue } from "../store/alerts.ts";
import { kvKeys } from "../store/kv/keys.ts";
import type { Store } from "../store/store.ts";
import { AlertEngine } from "./engine.ts";
import { IncidentService } from "./incidents.ts";
import { noMaintenance } from "./no_maintenance.ts";
import type { MaintenanceCalendar } from "./types.ts";

/** A decision is a read and a commit; a lane item gets half a minute before another takes it. */
const DECIDE_LEASE_MS = 30_000;

export interface AlertsOptions {
  /** The alert lane's own keys live here (see Dispatcher). */
  kv: Deno.Kv;
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
  const { kv, store, alerts, clock } = options;
  const calendar = options.calendar ?? noMaintenance;
  const engine = new AlertEngine({
    alerts,
    clock,
    calendar,
    onNotification: options.onNotification,
  });
  const lane = new Dispatcher<DecideValue>({
    name: "alert",
    kv,
    clock,
    maxConcurrency: 16,
    pending: kvKeys.alertDecideDue(),
    leased: kvKeys.alertDecideLeases(),
    leaseMs: () => DECIDE_LEASE_MS,
    execute: (item, lease) => engine.execute(item, lease),
  });
  const incidents = new IncidentService({ alerts, store, clock, calendar });
  return { engine, incidents, lane };
}
