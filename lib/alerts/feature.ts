/**
 * Builds the alerting core: the engine that decides job states (what the runner and the result
 * ingester call around each run), the incident service the routes call, the `alert` lane that
 * decides what a dead process left, multi-location intervals at their deadline, and jobs whose
 * maintenance window ended, and the `notification` lane that sends what decisions queue
 * (lib/alerts/notifier.ts). Order: the notification lane first (the engine and the notifier
 * wake it; its `execute` reaches the notifier declared below it, see system.ts), then the
 * engine, the alert lane and the service.
 */
import type { Clock } from "../clock.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { AlertStore, DecideValue } from "../store/alerts.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { Store } from "../store/store.ts";
import type { Metrics } from "../metrics.ts";
import type { ChannelStore } from "../store/channels.ts";
import type { NotificationRef } from "../store/alerts.ts";
import { AlertEngine } from "./engine.ts";
import { GROUP_WINDOW_MS, Notifier, NOTIFY_LEASE_MS } from "./notifier.ts";
import { IncidentService } from "./incidents.ts";
import { noMaintenance } from "./no_maintenance.ts";
import type { AlertMessage, Channel, MaintenanceCalendar, SendOutcome } from "./types.ts";

/** A decision is a read and a commit; a lane item gets half a minute before another takes it. */
const DECIDE_LEASE_MS = 30_000;
/**
 * Notifications running at once: most of them only wait in memory for their group to close,
 * so a burst of a thousand is taken in one drain and grouped.
 */
const NOTIFY_CONCURRENCY = 2000;

export interface AlertsOptions {
  /** Where the alert lane keeps its items. */
  lanes: LaneStore;
  store: Store;
  alerts: AlertStore;
  clock: Clock;
  /** Maintenance windows; none until they are wired in. */
  calendar?: MaintenanceCalendar;
  /** Channels, to send to and to disable when dead. */
  channels: ChannelStore;
  /** Sends to a stored channel (`ChannelService.send`). */
  send: (channel: Channel, message: AlertMessage) => Promise<SendOutcome>;
  metrics: Metrics;
  /** HIBIKI_PUBLIC_URL, for links in messages. */
  baseUrl: string;
  /** How long opened and resolved notifications wait to be grouped (HIBIKI_ALERT_GROUP_MS). */
  groupWindowMs?: number;
  /** Jitter of notification retries in [-1, 1); tests pin it. */
  jitter?: () => number;
  /** Told when a job's state or incidents change (status pages forget what they built). */
  onChange?: (userId: string, jobId: string) => void;
}

export interface Alerts {
  engine: AlertEngine;
  incidents: IncidentService;
  lane: Dispatcher<DecideValue>;
  /** Sends notifications. */
  notifications: Dispatcher<NotificationRef>;
}

export function createAlerts(options: AlertsOptions): Alerts {
  const { lanes, store, alerts, clock } = options;
  const calendar = options.calendar ?? noMaintenance;
  const notifications = new Dispatcher<NotificationRef>({
    lane: "notification",
    store: lanes,
    clock,
    maxConcurrency: NOTIFY_CONCURRENCY,
    leaseMs: () => NOTIFY_LEASE_MS,
    execute: (item, lease) => notifier.execute(item, lease),
  });
  const wake = (at: number) => notifications.wake(at);
  const notifier = new Notifier({
    alerts,
    channels: options.channels,
    lanes,
    send: options.send,
    clock,
    metrics: options.metrics,
    baseUrl: options.baseUrl,
    onDue: wake,
    groupWindowMs: options.groupWindowMs ?? GROUP_WINDOW_MS,
    jitter: options.jitter,
  });
  const engine = new AlertEngine({
    alerts,
    clock,
    calendar,
    onNotification: wake,
    onChange: options.onChange,
  });
  const lane = new Dispatcher<DecideValue>({
    lane: "alert",
    store: lanes,
    clock,
    maxConcurrency: 16,
    leaseMs: () => DECIDE_LEASE_MS,
    execute: (item, lease) => engine.execute(item, lease),
  });
  const incidents = new IncidentService({
    alerts,
    store,
    clock,
    calendar,
    onChange: options.onChange,
  });
  return { engine, incidents, lane, notifications };
}
