/**
 * The notification lane's handler: sends what the state engine queued (lib/alerts/outbox.ts),
 * one `Notification` per transition and channel, through the channel's sender, and records
 * every attempt on the notification.
 *
 * What is sent:
 * - `incident.opened`: at once, or after the channel's `delayMinutes` (an escalation: only if
 *   the incident is still open and unacknowledged then, else it is cancelled with a reason);
 * - `incident.reminder`: while the incident is open and unacknowledged; each reminder sent
 *   moves the same record to its next time (`remindEveryMinutes` after the send) in the
 *   write that records it, so acknowledging or resolving cancels the one record there is;
 * - `incident.resolved`: as queued (to channels that heard of it, `onResolve` not false);
 * - `certificate.expiring`: at once, alone (never grouped: it is no outage, and a message that
 *   lists it among jobs going down would read as one); it names its job, not an incident.
 * A channel deleted or disabled meanwhile (or, for a certificate, the job deleted) cancels the
 * notification with a reason.
 *
 * Retries: failures retry on RETRY_SCHEDULE_MS (±10 % jitter, `Retry-After` honoured up to
 * 12 h, lib/net/retry.ts), then the notification is `dead`; a permanent answer (401, 403,
 * 404, 410, a refused recipient) is `dead` at once. A dead channel is disabled with a reason,
 * as webhooks are (lib/webhooks/deliverer.ts): at a 410 Gone, or when every send has failed
 * for three days (`failingSince`, cleared by a success).
 *
 * No storms: opened and resolved notifications wait GROUP_WINDOW_MS (HIBIKI_ALERT_GROUP_MS)
 * after they became due, and all of one owner, channel and kind taken by this process by then
 * go out as one `incidents.grouped` message (at most MAX_GROUP incidents a message). The lane
 * runs many items at once (they only wait in memory), so a burst is taken in one drain and
 * grouped; a second process taking part of the burst sends its own grouped message.
 *
 * Once per transition and channel, however many processes and crashes:
 * - An item is leased to one process at a time (compare-and-set on the lane), and its record
 *   is read after the lease: one not pending at this due time is dropped.
 * - A single message: sent, then its outcome written with compare-and-set on the record as
 *   read, releasing the lease in the same commit. A cancellation (acknowledgement) racing the
 *   send makes that write fail: the message went, the cancellation stands.
 * - A grouped message is first written as a group, in one commit: the leader's record names
 *   the others (`group`), each other's record names the leader (`groupedInto`, its due entry
 *   and lease gone), all compare-and-set. From then on only the leader's lane item exists, so
 *   nothing else sends the others; whoever holds the leader's lease (this process, or another
 *   after a crash) sends the same message under the leader's id, and records the outcome on
 *   all of them in one commit with the leader's lease. A crash before the group commit leaves
 *   every item leased: the leases run out and they are taken (and grouped) again, nothing sent.
 * - What is not avoidable: a crash (or a lost write) after the receiver got a message and
 *   before its outcome is written sends it again once the lease runs out (NOTIFY_LEASE_MS).
 *   The retry carries the same id (`X-Webhook-ID` / `webhook-id` for webhook channels; the
 *   leader's for a group; PagerDuty's `dedup_key` is the incident), so receivers can dedupe.
 *   That is at-least-once delivery with a stable id, like webhook deliveries.
 */
import type { Clock } from "../clock.ts";
import { NotFoundError } from "../errors.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";
import type { Metrics } from "../metrics.ts";
import { randomJitter, retryDelay } from "../net/retry.ts";
import type {
  AlertStore,
  NotificationRef,
  VersionedIncident,
  VersionedNotification,
} from "../store/alerts.ts";
import type { ChannelStore } from "../store/channels.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { Job } from "../store/types.ts";
import { alertSettingsOf } from "./alert_settings.ts";
import type {
  AlertMessage,
  AlertMessageItem,
  AlertState,
  Channel,
  Notification,
  NotificationAttempt,
  SendOutcome,
} from "./types.ts";

/** Opened and resolved notifications wait this long for others of their owner and channel. */
export const GROUP_WINDOW_MS = 500;
/** Incidents one grouped message lists at most: one commit records them all. */
export const MAX_GROUP = 90;
/** Retries after a failed send: about 8 hours in all, then dead. */
export const RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000];
/** A send takes at most 30 s (SMTP); the window, reads and writes fit well inside. */
export const NOTIFY_LEASE_MS = 120_000;
/** Channels failing this long without a success are disabled. */
const DISABLE_AFTER_FAILING_MS = 3 * 86_400_000;
/** An opened notification first due this long after it was queued is an escalation. */
const ESCALATION_MIN_DELAY_MS = 60_000;
/** Attempts kept on a record (a reminder repeats for as long as its incident stays open). */
const ATTEMPTS_KEPT = 30;
/** Messages being sent at once by this process. */
const SEND_CONCURRENCY = 64;
const MINUTE_MS = 60_000;

export interface NotifierOptions {
  alerts: AlertStore;
  channels: ChannelStore;
  lanes: LaneStore;
  /** Sends to a stored channel (`ChannelService.send`: opens its secrets, never throws). */
  send: (channel: Channel, message: AlertMessage) => Promise<SendOutcome>;
  clock: Clock;
  metrics: Metrics;
  /** HIBIKI_PUBLIC_URL, for links. */
  baseUrl: string;
  /** The lane's wake: told the time of a retry or a next reminder. */
  onDue: (at: number) => void;
  groupWindowMs?: number;
  retryScheduleMs?: readonly number[];
  /** Jitter of retries in [-1, 1); tests pin it. */
  jitter?: () => number;
}

interface Taken {
  item: QueueItem<NotificationRef>;
  lease: Lease;
}

/** A taken item with its record, as read after the lease. */
interface Member extends Taken {
  current: VersionedNotification;
}

interface Batch {
  members: Taken[];
  done: Promise<void>;
}

/**
 * What a message tells of one notification: its incident and job, read once (a certificate
 * warning's: its job only, keyed `job <id>`).
 */
interface Subject {
  incident: VersionedIncident | null;
  job: Job | null;
  state: AlertState;
}

export class Notifier {
  /** Batches still gathering, by owner, channel and kind. */
  private readonly open = new Map<string, Batch>();
  private sending = 0;
  private readonly sendQueue: (() => void)[] = [];
  private readonly jitter: () => number;

  constructor(private readonly options: NotifierOptions) {
    this.jitter = options.jitter ?? randomJitter;
  }

  /** The lane's `execute`: resolves once the item's message is sent and recorded (or dropped). */
  execute(item: QueueItem<NotificationRef>, lease: Lease): Promise<void> {
    const { kind, userId, channelId } = item.value;
    if (kind !== "incident.opened" && kind !== "incident.resolved") {
      return this.handle([{ item, lease }]);
    }
    const key = JSON.stringify([userId, channelId, kind]);
    const batch = this.open.get(key);
    if (batch) {
      batch.members.push({ item, lease });
      return batch.done;
    }
    const members: Taken[] = [{ item, lease }];
    const window = this.options.groupWindowMs ?? GROUP_WINDOW_MS;
    const wait = Math.max(0, item.at + window - this.options.clock.now());
    const done = new Promise<void>((resolve) => setTimeout(resolve, Math.min(wait, window)))
      .then(() => {
        this.open.delete(key);
        return this.handle(members);
      });
    this.open.set(key, { members, done });
    return done;
  }

  /** Sends what a batch of one owner, channel and kind comes to. */
  private async handle(taken: Taken[]): Promise<void> {
    const { alerts, lanes, channels } = this.options;
    const records = await alerts.getNotifications(taken.map((t) => t.item.id[0] as string));
    const fresh: Member[] = [];
    const prepared: Member[] = [];
    await Promise.all(taken.map(async (t, i) => {
      const current = records[i];
      const n = current?.notification;
      // Done, cancelled, moved to another time, or sent inside another's group.
      if (
        !current || !n || n.state !== "pending" || n.nextAttemptAt !== t.item.at ||
        n.groupedInto !== undefined
      ) {
        return await lanes.release(t.lease.ref);
      }
      (n.group ? prepared : fresh).push({ ...t, current });
    }));
    if (fresh.length + prepared.length === 0) return;
    const { userId, channelId } = taken[0].item.value;
    const channel = await channels.get(userId, channelId);
    const gone = !channel
      ? "Channel deleted"
      : !channel.enabled
      ? `Channel disabled: ${channel.disabledReason ?? "by the owner"}`
      : null;
    if (gone || !channel) {
      await Promise.all([...fresh, ...prepared].map((m) => this.cancelGroup(m, gone!)));
      return;
    }
    fresh.sort((a, b) => a.current.notification.id < b.current.notification.id ? -1 : 1);
    const subjects = await this.subjects([...fresh, ...prepared]);
    const sendable: Member[] = [];
    await Promise.all(fresh.map(async (m) => {
      const why = notToSend(m.current.notification, subjects.get(subjectOf(m))!);
      if (why) await this.cancel(m, why);
      else sendable.push(m);
    }));
    const work: Promise<void>[] = prepared.map((leader) => this.sendPrepared(channel, leader));
    for (let i = 0; i < sendable.length; i += MAX_GROUP) {
      work.push(this.sendGroup(channel, sendable.slice(i, i + MAX_GROUP), subjects));
    }
    await Promise.all(work);
  }

  /** Writes a group (when more than one) and sends it. */
  private async sendGroup(
    channel: Channel,
    members: Member[],
    subjects: Map<string, Subject>,
  ): Promise<void> {
    if (members.length === 1) return await this.deliver(channel, members[0], [], subjects);
    const [leader, ...others] = members;
    const changes = [
      {
        current: leader.current,
        next: { ...leader.current.notification, group: others.map(idOf) },
      },
      ...others.map((m) => ({
        current: m.current,
        next: { ...m.current.notification, groupedInto: idOf(leader), nextAttemptAt: null },
      })),
    ];
    const version = await this.options.alerts.saveNotifications(changes, {
      leases: others.map((m) => m.lease.ref),
    });
    if (version === null) {
      // One changed meanwhile (cancelled): hand them all back to be taken and grouped again.
      await this.options.lanes.handBack("notification", members);
      return;
    }
    const written = (m: Member, i: number): Member => ({
      ...m,
      current: { notification: changes[i].next, version },
    });
    await this.deliver(
      channel,
      written(leader, 0),
      others.map((m, i) => written(m, i + 1)),
      subjects,
    );
  }

  /** A group written before (by this or a process that died): the same message again. */
  private async sendPrepared(channel: Channel, leader: Member): Promise<void> {
    const ids = leader.current.notification.group ?? [];
    const records = await this.options.alerts.getNotifications(ids);
    const others: Member[] = records
      .filter((r) =>
        r?.notification.groupedInto === idOf(leader) && r.notification.state === "pending"
      )
      .map((current) => ({ ...leader, current: current! }));
    const subjects = await this.subjects([leader, ...others]);
    await this.deliver(channel, leader, others, subjects);
  }

  /** Sends one message for `leader` (and `others`, grouped) and records what came of it. */
  private async deliver(
    channel: Channel,
    leader: Member,
    others: Member[],
    subjects: Map<string, Subject>,
  ): Promise<void> {
    const { clock, baseUrl } = this.options;
    const all = [leader, ...others];
    const message = messageOf(all, subjects, baseUrl);
    const at = clock.now();
    const outcome = await this.paced(() => this.options.send(channel, message));
    const now = clock.now();
    const attempt: NotificationAttempt = {
      n: leader.current.notification.attempts.length + 1,
      at: new Date(at).toISOString(),
      status: outcome.status,
      durationMs: outcome.durationMs,
      success: outcome.success,
      error: outcome.error,
      response: outcome.response,
    };
    const disable = outcome.success ? null : await this.streak(channel, outcome, now);
    const retryIn = outcome.success || outcome.permanent || disable ? null : retryDelay(
      this.options.retryScheduleMs ?? RETRY_SCHEDULE_MS,
      failuresInRow(leader.current.notification),
      {
        retryAfter: outcome.retryAfterMs === null
          ? null
          : String(Math.ceil(outcome.retryAfterMs / 1000)),
        now,
        jitter: this.jitter,
      },
    );
    const reason = outcome.success || retryIn !== null
      ? undefined
      : disable ?? (outcome.permanent ? "Refused for good by the receiver" : "Retries exhausted");
    const changes = all.map((m, i) => ({
      current: m.current,
      next: this.after(m, i === 0, attempt, retryIn, reason, subjects.get(subjectOf(m))!, now),
    }));
    const version = await this.options.alerts.saveNotifications(changes, {
      leases: [leader.lease.ref],
    });
    if (version === null) await this.recordOnChanged(changes, leader);
    this.count(channel, changes.map((c) => c.next), outcome.success);
    const next = changes[0].next.nextAttemptAt;
    if (version !== null && next !== null) this.options.onDue(next);
    if (outcome.success && channel.failingSince !== null) await this.clearStreak(channel);
  }

  /** A record after an attempt: sent, retried (the leader carries the retry), or dead. */
  private after(
    m: Member,
    isLeader: boolean,
    attempt: NotificationAttempt,
    retryIn: number | null,
    reason: string | undefined,
    subject: Subject,
    now: number,
  ): Notification {
    const n = m.current.notification;
    const attempts = [...n.attempts, { ...attempt, n: n.attempts.length + 1 }].slice(
      -ATTEMPTS_KEPT,
    );
    if (attempt.success) {
      const every = n.kind === "incident.reminder" ? reminderEvery(n, subject) : null;
      return every === null
        ? { ...n, attempts, state: "sent", nextAttemptAt: null }
        : { ...n, attempts, nextAttemptAt: now + every };
    }
    if (retryIn !== null) {
      return { ...n, attempts, nextAttemptAt: isLeader ? now + retryIn : null };
    }
    return { ...n, attempts, state: "dead", nextAttemptAt: null, reason };
  }

  /**
   * The outcome could not be written as read (a record changed while sending: an
   * acknowledgement cancelled a reminder): the message went, so record the attempt on each
   * record still pending, and end the lease either way. Never sends again.
   */
  private async recordOnChanged(
    changes: { current: VersionedNotification; next: Notification }[],
    leader: Member,
  ): Promise<void> {
    const { alerts, lanes } = this.options;
    const fresh = await alerts.getNotifications(changes.map((c) => c.next.id));
    let leaseEnded = false;
    await Promise.all(changes.map(async ({ next }, i) => {
      const now = fresh[i];
      if (!now) return;
      const n = now.notification;
      const attempts = [...n.attempts, next.attempts[next.attempts.length - 1]];
      const done: Notification = n.state === "pending" && next.state !== "pending"
        ? { ...n, attempts, state: next.state, nextAttemptAt: null, reason: next.reason }
        : { ...n, attempts };
      if (n.state === "pending" && next.state === "pending") {
        done.nextAttemptAt = next.nextAttemptAt;
      }
      const lease = i === 0 ? leader.lease.ref : undefined;
      if (await alerts.saveNotification(now, done, { lease }) && i === 0) leaseEnded = true;
    }));
    if (!leaseEnded) await lanes.release(leader.lease.ref);
  }

  /** Cancels a notification (and the members of its group) with a reason, ending the lease. */
  private async cancelGroup(m: Member, reason: string): Promise<void> {
    const ids = m.current.notification.group ?? [];
    if (ids.length === 0) return await this.cancel(m, reason);
    const records = await this.options.alerts.getNotifications(ids);
    const changes = [m.current, ...records.filter((r) => r !== null)]
      .filter((c) => c.notification.state === "pending")
      .map((current) => ({ current, next: cancelled(current.notification, reason) }));
    const saved = await this.options.alerts.saveNotifications(changes, { leases: [m.lease.ref] });
    if (saved === null) await this.options.lanes.handBack("notification", [m]);
  }

  private async cancel(m: Member, reason: string): Promise<void> {
    const next = cancelled(m.current.notification, reason);
    const saved = await this.options.alerts.saveNotification(m.current, next, {
      lease: m.lease.ref,
    });
    // Changed meanwhile: taken again, it is looked at afresh.
    if (!saved) await this.options.lanes.handBack("notification", [m]);
  }

  /**
   * A failed send extends the channel's failing streak; answers why the channel is now
   * disabled (410, or three days without a success), else null.
   */
  private async streak(
    channel: Channel,
    outcome: SendOutcome,
    now: number,
  ): Promise<string | null> {
    const since = channel.failingSince;
    const disable = outcome.status === 410
      ? "The endpoint answered 410 Gone"
      : since !== null && now - since >= DISABLE_AFTER_FAILING_MS
      ? `Every send failed since ${new Date(since).toISOString()} (3 days)`
      : null;
    if (!disable && since !== null) return null;
    await this.updateChannel(channel, (c) =>
      disable
        ? {
          ...c,
          enabled: false,
          disabledReason: disable,
          disabledAt: new Date(now).toISOString(),
          failingSince: c.failingSince ?? now,
        }
        : { ...c, failingSince: c.failingSince ?? now });
    return disable;
  }

  private async clearStreak(channel: Channel): Promise<void> {
    await this.updateChannel(channel, (c) => ({ ...c, failingSince: null }));
  }

  private async updateChannel(channel: Channel, change: (c: Channel) => Channel): Promise<void> {
    try {
      await this.options.channels.update(channel.userId, channel.id, change);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /** The incidents, jobs and job states the members tell of, read once each. */
  private async subjects(members: Member[]): Promise<Map<string, Subject>> {
    const { alerts } = this.options;
    const userId = members[0].item.value.userId;
    const keys = [...new Set(members.map(subjectOf))];
    const incidents = await Promise.all(
      keys.map((key) => isJobKey(key) ? null : alerts.getIncident(userId, key)),
    );
    const jobOf = (key: string, i: number) =>
      isJobKey(key) ? key.slice(JOB_KEY.length) : incidents[i]?.incident.jobId;
    const jobIds = [...new Set(keys.map(jobOf).filter((j) => j))];
    const facts = await alerts.decisionFacts(jobIds.map((j) => [userId, j!] as const));
    const byJob = new Map(jobIds.map((j, i) => [j!, facts[i]]));
    return new Map(keys.map((key, i) => {
      const incident = incidents[i];
      const jobId = jobOf(key, i);
      const fact = jobId ? byJob.get(jobId) : undefined;
      const state = fact?.state.state?.state ??
        (incident?.incident.state === "open" ? "down" : isJobKey(key) ? "pending" : "up");
      return [key, { incident, job: fact?.job ?? null, state }];
    }));
  }

  private count(channel: Channel, done: Notification[], success: boolean): void {
    const counts = this.options.metrics.notificationsOf(channel.type);
    if (success) counts.sent += done.length;
    else counts.failed += done.length;
    counts.dead += done.filter((n) => n.state === "dead").length;
  }

  /** Runs `send` once fewer than SEND_CONCURRENCY others are running. */
  private async paced<T>(send: () => Promise<T>): Promise<T> {
    if (this.sending < SEND_CONCURRENCY) this.sending++;
    else await new Promise<void>((resolve) => this.sendQueue.push(resolve));
    try {
      return await send();
    } finally {
      const next = this.sendQueue.shift();
      if (next) next();
      else this.sending--;
    }
  }
}

/** Why a notification is not to be sent any more, or null to send it. */
function notToSend(n: Notification, subject: Subject): string | null {
  if (n.kind === "certificate.expiring") return subject.job && n.certificate ? null : "Job deleted";
  const incident = subject.incident?.incident;
  if (!incident) return "Incident deleted";
  const escalation = n.kind === "incident.opened" && n.attempts.length === 0 &&
    (n.nextAttemptAt ?? 0) - Date.parse(n.createdAt) >= ESCALATION_MIN_DELAY_MS;
  if (n.kind !== "incident.reminder" && !escalation) return null;
  if (incident.state !== "open") return "Incident resolved first";
  if (incident.acknowledgedAt !== null) return "Incident acknowledged first";
  return null;
}

/** Minutes between reminders as the job says now; null when they stopped. */
function reminderEvery(n: Notification, subject: Subject): number | null {
  const incident = subject.incident?.incident;
  if (!subject.job || !incident || incident.state !== "open" || incident.acknowledgedAt) {
    return null;
  }
  const settings = alertSettingsOf(subject.job);
  if (!settings.channels.some((c) => c.channelId === n.channelId)) return null;
  return settings.remindEveryMinutes === null ? null : settings.remindEveryMinutes * MINUTE_MS;
}

/** The message for a leader and the members grouped with it. */
function messageOf(
  all: Member[],
  subjects: Map<string, Subject>,
  baseUrl: string,
): AlertMessage {
  const leader = all[0].current.notification;
  const notificationId = leader.id;
  if (leader.kind === "certificate.expiring") {
    // Sent only with its job at hand (`notToSend`), and always written with its certificate.
    const subject = subjects.get(subjectOf(all[0]))!;
    const job = subject.job!;
    return {
      kind: leader.kind,
      job: { id: job.id, name: job.name, url: job.url || null },
      state: subject.state,
      certificate: leader.certificate!,
      baseUrl,
      notificationId,
    };
  }
  return {
    kind: all.length > 1 ? "incidents.grouped" : leader.kind,
    items: all.map((m) => messageItem(m, subjects.get(subjectOf(m))!)),
    baseUrl,
    notificationId,
  };
}

function messageItem(m: Member, subject: Subject): AlertMessageItem {
  const incident = subject.incident?.incident ?? placeholderIncident(m.current.notification);
  const job = subject.job;
  return {
    incident,
    job: job
      ? { id: job.id, name: job.name, url: job.url || null }
      : { id: incident.jobId, name: incident.jobId, url: null },
    state: subject.state,
  };
}

/** A prepared group's member whose incident went (its job was purged): named, not described. */
function placeholderIncident(n: Notification): AlertMessageItem["incident"] {
  return {
    id: n.incidentIds[0],
    userId: n.userId,
    jobId: "",
    state: "resolved",
    kind: "down",
    startedAt: n.createdAt,
    endedAt: null,
    durationMs: null,
    cause: "",
    runIds: [],
    locations: [],
    acknowledgedAt: null,
    acknowledgedBy: null,
    updates: [],
    notificationIds: [],
  };
}

function cancelled(n: Notification, reason: string): Notification {
  return { ...n, state: "cancelled", nextAttemptAt: null, reason };
}

/** Failed attempts since the last success (a reminder's earlier sends do not count). */
function failuresInRow(n: Notification): number {
  let count = 0;
  for (let i = n.attempts.length - 1; i >= 0 && !n.attempts[i].success; i--) count++;
  return count;
}

function idOf(m: Member): string {
  return m.current.notification.id;
}

/** Certificate warnings' subjects are keyed by their job: `job <id>` (an incident id has no space). */
const JOB_KEY = "job ";

function isJobKey(key: string): boolean {
  return key.startsWith(JOB_KEY);
}

/** The key of what a notification tells of: its incident, or a certificate warning's job. */
function subjectOf(m: Member): string {
  const n = m.current.notification;
  return n.kind === "certificate.expiring"
    ? JOB_KEY + (n.certificate?.jobId ?? "")
    : n.incidentIds[0];
}
