/**
 * The notification outbox: which `Notification` records a state change writes, in the same
 * commit (see lib/store/alerts.ts for their due index). The notification lane sends them.
 *
 * - An incident opens: one `incident.opened` per channel of `alerts.channels`, due now, or
 *   after the channel's `delayMinutes` (escalation: it is cancelled if the incident is
 *   acknowledged or resolved first); with `remindEveryMinutes`, one `incident.reminder` per
 *   channel due that long after the channel's first message (the lane sends it and queues the
 *   next one while the incident stays open and unacknowledged).
 * - It resolves: one `incident.resolved` per channel that heard of it (its opened message was
 *   due by then) unless the channel has `onResolve: false`; reminders and escalations not yet
 *   sent are cancelled.
 * - It is acknowledged: reminders and escalations not yet sent are cancelled.
 * - A run's certificate is due a warning (lib/alerts/certificate_warning.ts): one
 *   `certificate.expiring` per channel, due now whatever the channel's `delayMinutes` (an
 *   escalation waits to see whether an outage lasts; an expiry date does not go away), with
 *   no incident: it names the job and the certificate.
 */
import { randomBytes } from "../crypto.ts";
import type { VersionedNotification } from "../store/alerts.ts";
import type { AlertSettings, CertificateNotice, Notification, NotificationKind } from "./types.ts";

const MINUTE_MS = 60_000;

/** `ntf_<12 hex ms><16 hex random>`: sorts by creation. */
export function newNotificationId(now: number): string {
  return `ntf_${now.toString(16).padStart(12, "0")}${randomBytes(8).toHex()}`;
}

/** `inc_<12 hex ms><16 hex random>`: sorts by the time it opened. */
export function newIncidentId(now: number): string {
  return `inc_${now.toString(16).padStart(12, "0")}${randomBytes(8).toHex()}`;
}

/** The notifications an incident that opens now queues. */
export function openedNotifications(
  settings: AlertSettings,
  incident: { id: string; userId: string },
  now: number,
): Notification[] {
  const out: Notification[] = [];
  for (const ref of settings.channels) {
    const first = now + (ref.delayMinutes ?? 0) * MINUTE_MS;
    out.push(notification(incident, ref.channelId, "incident.opened", first, now));
    if (settings.remindEveryMinutes !== null) {
      const at = first + settings.remindEveryMinutes * MINUTE_MS;
      out.push(notification(incident, ref.channelId, "incident.reminder", at, now));
    }
  }
  return out;
}

/**
 * The incident's notifications that are not to be sent any more once it is acknowledged or
 * resolved at `now`: reminders, and escalations whose time has not come and that nobody tried.
 */
export function cancellable(
  notifications: readonly VersionedNotification[],
  now: number,
): { current: VersionedNotification; next: Notification }[] {
  return notifications
    .filter(({ notification: n }) =>
      n.state === "pending" &&
      (n.kind === "incident.reminder" ||
        (n.kind === "incident.opened" && n.attempts.length === 0 &&
          n.nextAttemptAt !== null && n.nextAttemptAt > now))
    )
    .map((current) => ({
      current,
      next: { ...current.notification, state: "cancelled" as const, nextAttemptAt: null },
    }));
}

/**
 * The `incident.resolved` notifications: to each channel still listed whose opened message was
 * not cancelled (it heard, or is hearing, of the incident), unless `onResolve` is false.
 */
export function resolvedNotifications(
  settings: AlertSettings,
  incident: { id: string; userId: string },
  told: ReadonlySet<string>,
  now: number,
): Notification[] {
  return settings.channels
    .filter((ref) => ref.onResolve !== false && told.has(ref.channelId))
    .map((ref) => notification(incident, ref.channelId, "incident.resolved", now, now));
}

/** The `certificate.expiring` notifications of a warning: one per channel, due now. */
export function certificateNotifications(
  settings: AlertSettings,
  userId: string,
  certificate: CertificateNotice,
  now: number,
): Notification[] {
  return settings.channels.map((ref) => ({
    id: newNotificationId(now),
    userId,
    channelId: ref.channelId,
    kind: "certificate.expiring",
    incidentIds: [],
    certificate,
    state: "pending",
    nextAttemptAt: now,
    attempts: [],
    createdAt: new Date(now).toISOString(),
  }));
}

/** Channels told of the incident: an opened message that is not (being) cancelled. */
export function toldChannels(
  notifications: readonly VersionedNotification[],
  cancelled: ReadonlySet<string>,
): Set<string> {
  return new Set(
    notifications
      .map((v) => v.notification)
      .filter((n) => n.kind === "incident.opened" && n.state !== "cancelled")
      .filter((n) => !cancelled.has(n.id))
      .map((n) => n.channelId),
  );
}

function notification(
  incident: { id: string; userId: string },
  channelId: string,
  kind: NotificationKind,
  at: number,
  now: number,
): Notification {
  return {
    id: newNotificationId(now),
    userId: incident.userId,
    channelId,
    kind,
    incidentIds: [incident.id],
    state: "pending",
    nextAttemptAt: at,
    attempts: [],
    createdAt: new Date(now).toISOString(),
  };
}
