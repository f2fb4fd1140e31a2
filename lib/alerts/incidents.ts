/**
 * Incidents, alert states and uptime as the API reads them: lists and lookups scoped to the
 * owner, acknowledgement (which cancels the reminders and escalations not yet sent, in the
 * same write), operators' updates (which status pages show), a job's alert state, and its
 * uptime over 24 h, 7 d, 30 d and 90 d.
 */
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import type { AlertStore, IncidentQuery } from "../store/alerts.ts";
import type { Store } from "../store/store.ts";
import type { Job, Page } from "../store/types.ts";
import { cancellable } from "./outbox.ts";
import { initialState } from "./state_machine.ts";
import type { AlertState, Incident, MaintenanceCalendar, Notification, Verdict } from "./types.ts";
import { uptimeBetween, type UptimeFigures } from "./uptime.ts";

const INCIDENT_ID = /^inc_[0-9a-f]{28}$/;
/** Updates on one incident at most: the record stays far under Deno KV's 64 KiB a value. */
export const MAX_INCIDENT_UPDATES = 10;
export const MAX_UPDATE_CHARS = 2000;
const DAY_MS = 86_400_000;
/** The ranges uptime is given over, longest last (it bounds the one read). */
export const UPTIME_WINDOWS = {
  "24h": DAY_MS,
  "7d": 7 * DAY_MS,
  "30d": 30 * DAY_MS,
  "90d": 90 * DAY_MS,
};

export interface IncidentDetail extends Incident {
  /** Its notifications' records, in the order of `notificationIds`: state and attempts. */
  notifications: Notification[];
}

/** A job's alert state as the API shows it. */
export interface AlertStateView {
  jobId: string;
  state: AlertState;
  since: string;
  failures: number;
  successes: number;
  incidentId: string | null;
  /** Start of the newest interval decided; null before any. */
  decidedThrough: string | null;
  verdict: Verdict | null;
}

export interface UptimeView {
  jobId: string;
  at: string;
  windows: Record<keyof typeof UPTIME_WINDOWS, UptimeFigures & { from: string }>;
}

export interface IncidentServiceOptions {
  alerts: AlertStore;
  store: Store;
  clock: Clock;
  calendar: MaintenanceCalendar;
  /** Told when an incident changes in a way status pages show (an operator's update). */
  onChange?: (userId: string, jobId: string) => void;
}

export class IncidentService {
  constructor(private readonly options: IncidentServiceOptions) {}

  list(
    userId: string,
    query: { state?: string; jobId?: string; cursor?: string; limit: number },
  ): Promise<Page<Incident>> {
    const { state, jobId } = query;
    if (state !== undefined && state !== "open" && state !== "resolved") {
      throw new ValidationError('state must be "open" or "resolved"', "state");
    }
    if (jobId !== undefined && (jobId.length === 0 || jobId.length > 200)) {
      throw new ValidationError("jobId must be a job id", "jobId");
    }
    const filter: IncidentQuery = { cursor: query.cursor, limit: query.limit };
    if (state) filter.state = state;
    if (jobId) filter.jobId = jobId;
    return this.options.alerts.listIncidents(userId, filter);
  }

  async get(userId: string, incidentId: string): Promise<IncidentDetail> {
    const { incident } = await this.read(userId, incidentId);
    const notifications = await this.options.alerts.getNotifications(incident.notificationIds);
    return {
      ...incident,
      notifications: notifications.filter((n) => n !== null).map((n) => n.notification),
    };
  }

  /**
   * Records who acknowledged an open incident and cancels its reminders and pending
   * escalations in the same write. Acknowledging again changes nothing.
   */
  async acknowledge(userId: string, incidentId: string, who: string): Promise<Incident> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.read(userId, incidentId);
      if (current.incident.acknowledgedAt !== null) return current.incident;
      if (current.incident.state !== "open") {
        throw new ConflictError(`Cannot acknowledge incident "${incidentId}": it is resolved`);
      }
      const now = this.options.clock.now();
      const notifications = await this.options.alerts.getNotifications(
        current.incident.notificationIds,
      );
      const cancel = cancellable(notifications.filter((n) => n !== null), now);
      const next: Incident = {
        ...current.incident,
        acknowledgedAt: new Date(now).toISOString(),
        acknowledgedBy: who,
      };
      if (await this.options.alerts.saveIncident(current, next, cancel)) {
        this.options.onChange?.(userId, next.jobId); // status pages show "being investigated"
        return next;
      }
    }
    throw new ConflictError(`Cannot acknowledge incident "${incidentId}": it keeps changing`);
  }

  /**
   * Appends an operator's note (`{ message }`) to an incident, open or resolved, with
   * compare-and-set: two notes posted at once both land, in the order written.
   */
  async addUpdate(userId: string, incidentId: string, body: unknown): Promise<Incident> {
    const message = updateMessage(body);
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.read(userId, incidentId);
      if (current.incident.updates.length >= MAX_INCIDENT_UPDATES) {
        throw new ConflictError(
          `Cannot add an update to incident "${incidentId}": it has ${MAX_INCIDENT_UPDATES} ` +
            "already",
        );
      }
      const at = new Date(this.options.clock.now()).toISOString();
      const next: Incident = {
        ...current.incident,
        updates: [...current.incident.updates, { at, message }],
      };
      if (await this.options.alerts.saveIncident(current, next)) {
        this.options.onChange?.(userId, next.jobId);
        return next;
      }
    }
    throw new ConflictError(`Cannot add an update to incident "${incidentId}": it keeps changing`);
  }

  /** The job's alert state; a disabled job shows `paused`. */
  async stateOf(userId: string, jobId: string): Promise<AlertStateView> {
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    const { job } = stored;
    const read = await this.options.alerts.getState(userId, jobId);
    const state = read.state ?? initialState(userId, jobId, Date.parse(job.createdAt));
    const paused = !job.enabled && state.state !== "paused";
    return {
      jobId,
      state: paused ? "paused" : state.state,
      since: new Date(paused ? Date.parse(job.updatedAt) : state.since).toISOString(),
      failures: state.failures,
      successes: state.successes,
      incidentId: state.incidentId,
      decidedThrough: state.decidedThrough > 0
        ? new Date(state.decidedThrough).toISOString()
        : null,
      verdict: state.verdict,
    };
  }

  /**
   * Uptime over each window, from the job's incidents overlapping the longest one (one short
   * read) and its maintenance spans; time before the job existed is left out.
   */
  async uptime(userId: string, jobId: string): Promise<UptimeView> {
    const stored = await this.options.store.getJob(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    const now = this.options.clock.now();
    const created = Date.parse(stored.job.createdAt);
    const earliest = Math.max(created, now - UPTIME_WINDOWS["90d"]);
    const [incidents, maintenance] = await Promise.all([
      this.options.alerts.incidentsBetween(userId, jobId, earliest, now),
      this.options.calendar.spans(userId, jobId, earliest, now),
    ]);
    const spans = spansOf(incidents, now);
    const windows = Object.fromEntries(
      Object.entries(UPTIME_WINDOWS).map(([name, length]) => {
        const from = Math.min(now, Math.max(created, now - length));
        const figures = uptimeBetween(from, now, spans, maintenance);
        return [name, { from: new Date(from).toISOString(), ...figures }];
      }),
    ) as UptimeView["windows"];
    return { jobId, at: new Date(now).toISOString(), windows };
  }

  /**
   * Uptime over 24 hours and 30 days for each of a page of jobs (the dashboard's rows): per
   * job, one read of its incidents overlapping the 30 days (a reverse range that stops at the
   * first one ended before them) and its maintenance spans (the calendar's memory). Jobs are
   * given whole, so nothing else is read.
   */
  async uptimeOfJobs(
    userId: string,
    jobs: readonly Pick<Job, "id" | "createdAt">[],
  ): Promise<{ day: number | null; month: number | null }[]> {
    const now = this.options.clock.now();
    return await Promise.all(jobs.map(async (job) => {
      const created = Date.parse(job.createdAt);
      const earliest = Math.min(now, Math.max(created, now - UPTIME_WINDOWS["30d"]));
      const [incidents, maintenance] = await Promise.all([
        this.options.alerts.incidentsBetween(userId, job.id, earliest, now),
        this.options.calendar.spans(userId, job.id, earliest, now),
      ]);
      const spans = spansOf(incidents, now);
      const dayFrom = Math.min(now, Math.max(created, now - UPTIME_WINDOWS["24h"]));
      return {
        day: uptimeBetween(dayFrom, now, spans, maintenance).uptime,
        month: uptimeBetween(earliest, now, spans, maintenance).uptime,
      };
    }));
  }

  private async read(userId: string, incidentId: string) {
    const found = INCIDENT_ID.test(incidentId)
      ? await this.options.alerts.getIncident(userId, incidentId)
      : null;
    if (!found) throw new NotFoundError(`Incident "${incidentId}" not found`);
    return found;
  }
}

function updateMessage(body: unknown): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("Request body must be a JSON object", null);
  }
  const message = (body as { message?: unknown }).message;
  const extra = Object.keys(body).find((key) => key !== "message");
  if (extra !== undefined) throw new ValidationError(`Unknown field "${extra}"`, extra);
  if (message === undefined) throw new ValidationError("message is required", "message");
  if (typeof message !== "string") throw new ValidationError("message must be text", "message");
  const text = message.trim();
  if (text.length === 0 || text.length > MAX_UPDATE_CHARS) {
    throw new ValidationError(
      `message must be 1 to ${MAX_UPDATE_CHARS} characters`,
      "message",
    );
  }
  return text;
}

/** Incidents as `[start, end)` spans; an open one reaches to now. */
function spansOf(incidents: readonly Incident[], now: number): [number, number][] {
  return incidents.map((i) => [
    Date.parse(i.startedAt),
    i.endedAt === null ? now : Date.parse(i.endedAt),
  ]);
}
