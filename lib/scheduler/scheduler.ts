/**
 * The scheduler claims fire times ahead of time. Each tick reads only the due part of the
 * jobs' due entries (each job's next unclaimed fire time, lib/store/claims.ts) and, per job,
 * commits in ONE write: the check that the entry is unchanged, a lease per fire time in the
 * fire lane, and the entry moved to the job's next unclaimed fire time. Claims of many jobs
 * share a commit. Two processes on one store, or a repeated tick, therefore never claim a fire
 * twice: the loser's check fails. Each claim of a shared commit wins or loses on its own, so
 * two processes ticking together split the due jobs instead of one waiting behind the other.
 *
 * The claimer holds its leases: it keeps the fires in memory and starts them at their second
 * (see Dispatcher.hold); its only write before a run is one compare-and-set, shared by the
 * fires starting together, that marks them started. A lease held ahead runs out at its fire's
 * own time (see `FireClaim`), so if the claimer dies, any process starts its fires on time;
 * only the fires it had started wait for their run's lease to run out.
 *
 * Missed fires (the process was down, so their time passed unclaimed) follow one policy:
 * the latest missed fire runs once if it is at most `catchUpDeadlineMs` old; every other
 * missed fire is recorded as a run with status `missed` (the most recent 100 one by one,
 * older ones folded into one record carrying `missedCount`).
 */
import type { Clock } from "../clock.ts";
import type { Metrics } from "../metrics.ts";
import { nextFireTimes, parseSchedule, type Schedule } from "../schedule/schedule.ts";
import type { ClaimStore, DueJob, FireClaim } from "../store/claims.ts";
import type { LaneStore } from "../store/lanes.ts";
import { runId } from "../store/run_id.ts";
import type { FireValue, Run } from "../store/types.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";

/** How far ahead a tick claims: one minute between ticks plus room for a late tick. */
export const LOOKAHEAD_MS = 90_000;
/**
 * Ticks run at this second of each minute, away from :00, where most cron schedules fire:
 * claiming the next minute's fires while this minute's start would make them compete.
 */
export const TICK_SECOND = 30;
/** A fire at most this late when claimed still counts as on time, not missed. */
const ON_TIME_TOLERANCE_MS = 1_000;
/** Fires claimed for one job in one pass (an every-second job has 70 in the lookahead). */
const MAX_FIRES_PER_OP = 80;
/**
 * What one shared commit of claims holds: each claim is one check and (4 + fires + missed + 1)
 * writes, kept inside Deno KV's 100 checks and 1000 mutations per atomic operation.
 */
const MAX_MUTATIONS_PER_OP = 900;
const MAX_CHECKS_PER_OP = 100;
const MISSED_RECORDED_ONE_BY_ONE = 100;
const LIST_BATCH = 500;
/**
 * A tick round that claimed none of what it listed waits this long before listing again: the
 * entries are another process's claim in flight, which takes milliseconds to commit.
 */
const LOST_ROUND_PAUSE_MS = 20;

export interface SchedulerOptions {
  /** Due entries and claims. */
  claims: ClaimStore;
  /** The fire lane, where manual fires wait. */
  lanes: LaneStore;
  clock: Clock;
  metrics: Metrics;
  catchUpDeadlineMs: number;
  /** Given the leases of each commit, to hold and start at their time. */
  onClaimed?: (leases: HeldFire[]) => void;
  /** Told of a manual fire written as pending, to start it now. */
  onPending?: (at: number) => void;
  /** Also wake listeners through the store's queue (needed where no process stays up). */
  queueWakeups?: boolean;
}

/** A fire this process claimed and holds the lease of. */
export interface HeldFire {
  item: QueueItem<FireValue>;
  lease: Lease;
}

export interface TickReport {
  jobs: number;
  claimed: number;
  missed: number;
}

interface Plan {
  entry: DueJob;
  fires: number[];
  missed: { at: number; count: number }[];
  nextAt: number | null;
}

export class Scheduler {
  private readonly claims: ClaimStore;
  private readonly clock: Clock;
  private wakeupsSent = new Set<number>();
  private ticker: ReturnType<typeof setTimeout> | null = null;
  /** Epoch ms of the last tick's start, 0 before the first. */
  lastTickAt = 0;

  constructor(private readonly options: SchedulerOptions) {
    this.claims = options.claims;
    this.clock = options.clock;
  }

  /** Ticks at second TICK_SECOND of every minute until stopped. */
  startTicking(): void {
    const arm = () => {
      const now = Date.now();
      const next = Math.ceil((now - TICK_SECOND * 1000 + 1) / 60_000) * 60_000 +
        TICK_SECOND * 1000;
      this.ticker = setTimeout(() => {
        this.tick().catch((e) => console.error(`Scheduler tick failed: ${e.message}`));
        arm();
      }, next - now);
    };
    arm();
  }

  stopTicking(): void {
    if (this.ticker !== null) clearTimeout(this.ticker);
    this.ticker = null;
  }

  /**
   * The Deno.cron tick: does the work only when no tick ran in the last 50 s (the process's
   * own ticker normally has, half a minute earlier; on Deno Deploy this is the one that runs).
   */
  async cronTick(): Promise<TickReport | null> {
    if (this.clock.now() - this.lastTickAt < 50_000) return null;
    return await this.tick();
  }

  /** Claims every fire due before the next tick (plus margin) for every job that has one. */
  async tick(): Promise<TickReport> {
    const report: TickReport = { jobs: 0, claimed: 0, missed: 0 };
    const now = this.clock.now();
    this.lastTickAt = now;
    const horizon = now + LOOKAHEAD_MS;
    this.wakeupsSent = new Set();
    // Each round moves every listed entry forward (or drops it), so rounds are bounded.
    for (let round = 0; round < 10_000; round++) {
      const entries = await this.claims.listDue(horizon, LIST_BATCH);
      if (entries.length === 0) break;
      const plans = entries.map((entry) => this.plan(entry, now, horizon));
      const won = await this.commitPlans(plans, now, report);
      // All lost: another process is claiming these entries right now (and will move them),
      // or they changed since listed. Listing them again at once would spin until it commits.
      if (won === 0) await new Promise((resolve) => setTimeout(resolve, LOST_ROUND_PAUSE_MS));
    }
    this.options.metrics.ticks++;
    return report;
  }

  /** Claims the fires of one job up to the current horizon: used right after a job changes. */
  async scheduleJob(userId: string, jobId: string): Promise<TickReport> {
    const report: TickReport = { jobs: 0, claimed: 0, missed: 0 };
    const now = this.clock.now();
    const horizon = now + LOOKAHEAD_MS;
    for (let round = 0; round < 100; round++) {
      const entry = await this.claims.getDue(userId, jobId);
      if (entry === null || entry.at >= horizon) break;
      const won = await this.commitPlans([this.plan(entry, now, horizon)], now, report);
      if (won === 0) await new Promise((resolve) => setTimeout(resolve, LOST_ROUND_PAUSE_MS));
    }
    return report;
  }

  /** Queues a manual run at `at`; returns the run-id suffix it will have. */
  async addManualFire(
    userId: string,
    jobId: string,
    options: { at: number; timeoutMs: number; env?: { name: string; value: string }[] },
  ): Promise<string> {
    const suffix = `manual-${crypto.randomUUID().slice(0, 8)}`;
    const fire: FireValue = {
      trigger: "MANUAL",
      timeoutMs: options.timeoutMs,
      ...(options.env?.length ? { env: options.env } : {}),
    };
    await this.options.lanes.add("fire", {
      at: options.at,
      id: [userId, jobId, suffix],
      value: fire,
    });
    this.options.onPending?.(options.at);
    return suffix;
  }

  private plan(entry: DueJob, now: number, horizon: number): Plan {
    const { at: dueAt, jobId } = entry;
    const plan: Plan = { entry, fires: [], missed: [], nextAt: null };
    let schedule: Schedule;
    try {
      schedule = parseSchedule(entry.schedule, {
        timezone: entry.timezone,
        key: jobId,
        shiftMs: entry.shiftMs,
      });
    } catch (error) {
      // Stored schedules were valid when written; one that no longer parses (a time zone
      // removed from the runtime's data) stops firing instead of blocking the index.
      console.error(`Cannot schedule job "${jobId}": ${(error as Error).message}`);
      return plan;
    }
    const pastEnd = now - ON_TIME_TOLERANCE_MS;
    let cursor = dueAt - 1;
    if (dueAt < pastEnd) cursor = this.collectMissed(plan, schedule, cursor, pastEnd, now);
    const upcoming = nextFireTimes(schedule, cursor, {
      limit: MAX_FIRES_PER_OP - plan.fires.length + 1,
      beforeMs: horizon,
    });
    const room = MAX_FIRES_PER_OP - plan.fires.length;
    if (upcoming.length > room) {
      plan.fires.push(...upcoming.slice(0, room));
      plan.nextAt = upcoming[room];
    } else {
      plan.fires.push(...upcoming);
      plan.nextAt = nextFireTimes(schedule, horizon - 1, { limit: 1 })[0] ?? null;
    }
    return plan;
  }

  /** Walks fire times that passed unclaimed; returns the last one considered. */
  private collectMissed(
    plan: Plan,
    schedule: Schedule,
    after: number,
    pastEnd: number,
    now: number,
  ): number {
    const recent: number[] = [];
    let total = 0;
    let first: number | null = null;
    let cursor = after;
    for (;;) {
      const batch = nextFireTimes(schedule, cursor, { limit: 1000, beforeMs: pastEnd });
      for (const at of batch) {
        first ??= at;
        total++;
        recent.push(at);
        if (recent.length > MISSED_RECORDED_ONE_BY_ONE + 1) recent.shift();
      }
      if (batch.length < 1000) break;
      cursor = batch[batch.length - 1];
      if (total >= 1_000_000) {
        // Beyond this the exact count is not worth the time: fold the rest in.
        total += nextFireTimes(schedule, cursor, { limit: 1, beforeMs: pastEnd }).length;
        cursor = pastEnd - 1;
        break;
      }
    }
    if (total === 0) return after;
    const latest = recent[recent.length - 1];
    if (now - latest <= this.options.catchUpDeadlineMs) {
      plan.fires.push(latest);
      recent.pop();
      total--;
    }
    const oneByOne = recent.slice(-MISSED_RECORDED_ONE_BY_ONE);
    const folded = total - oneByOne.length;
    if (folded > 0 && first !== null) plan.missed.push({ at: first, count: folded });
    for (const at of oneByOne) plan.missed.push({ at, count: 1 });
    return Math.max(cursor, latest);
  }

  /** Commits the plans in batches; returns how many of them this process claimed. */
  private async commitPlans(plans: Plan[], now: number, report: TickReport): Promise<number> {
    let batch: Plan[] = [];
    let checks = 0;
    let mutations = 0;
    let won = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const claimed = await this.commit(batch, now);
      for (const plan of claimed) this.count(plan, report);
      won += claimed.length;
      batch = [];
      checks = 0;
      mutations = 0;
    };
    for (const plan of plans) {
      const planChecks = 1;
      const planMutations = 4 + plan.fires.length + plan.missed.length + 1;
      if (
        checks + planChecks > MAX_CHECKS_PER_OP ||
        mutations + planMutations > MAX_MUTATIONS_PER_OP
      ) {
        await flush();
      }
      batch.push(plan);
      checks += planChecks;
      mutations += planMutations;
    }
    await flush();
    return won;
  }

  private count(plan: Plan, report: TickReport): void {
    report.jobs++;
    report.claimed += plan.fires.length;
    this.options.metrics.firesClaimed += plan.fires.length;
    for (const missed of plan.missed) {
      report.missed += missed.count;
      // Missed fires carry no lateness: the counter alone (a folded record may stand for many).
      this.options.metrics.runs.missed += missed.count;
    }
  }

  /**
   * Claims the plans' fires; returns the plans this process claimed (a plan another process
   * claimed first, or whose entry changed since listed, is left out).
   */
  private async commit(plans: Plan[], now: number): Promise<Plan[]> {
    // Seconds woken by this commit count as sent only once some claim of it commits: a plan
    // that lost is listed again in the next round, and its claim must carry them then.
    const wakeups = new Map<number, number>();
    const claims: FireClaim[] = plans.map((plan) => {
      const fire: FireValue = { trigger: "AUTO", timeoutMs: plan.entry.timeoutMs };
      for (const at of plan.fires) this.addWakeup(wakeups, at, now);
      const missed = plan.missed.map((m) => missedRun(plan, m));
      return { due: plan.entry, fires: plan.fires, fire, missed, nextAt: plan.nextAt };
    });
    const leases = await this.claims.claim(claims, [...wakeups.values()]);
    if (leases.every((lease) => lease === null)) return [];
    for (const second of wakeups.keys()) this.wakeupsSent.add(second);
    const held: HeldFire[] = claims.flatMap(({ due, fires, fire }, i) => {
      if (leases[i] === null) return [];
      // One id for a job's fires: tens of thousands are held at once (never changed in place).
      const id = [due.userId, due.jobId, "local"];
      return fires.map((at, j) => ({
        item: { at, id, value: fire, retaken: false },
        lease: leases[i]![j],
      }));
    });
    if (held.length > 0) this.options.onClaimed?.(held);
    return plans.filter((_, i) => leases[i] !== null);
  }

  /** Adds a wake-up at the second of `at` (its delay from now), unless one is sent already. */
  private addWakeup(wakeups: Map<number, number>, at: number, now: number): void {
    if (!this.options.queueWakeups) return;
    const second = Math.floor(at / 1000);
    if (this.wakeupsSent.has(second) || wakeups.has(second)) return;
    wakeups.set(second, Math.max(0, at - now));
  }
}

function missedRun(plan: Plan, missed: { at: number; count: number }): Run {
  return {
    id: runId(missed.at, "local"),
    jobId: plan.entry.jobId,
    userId: plan.entry.userId,
    where: "local",
    trigger: "AUTO",
    status: "missed",
    code: 0,
    scheduledAt: new Date(missed.at).toISOString(),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    lateMs: null,
    response: null,
    error: {
      category: "missed",
      message: missed.count > 1
        ? `Hibiki was not running: ${missed.count} fires from this time on were missed`
        : "Hibiki was not running at the scheduled time",
    },
    failure: null,
    ...(missed.count > 1 ? { missedCount: missed.count } : {}),
  };
}
