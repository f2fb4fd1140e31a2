/**
 * The public side of heartbeat jobs: `/ping/:token` and its `/start`, `/fail` and `/<code>`
 * forms. A ping is limited per token, found by its token's hash (once its job is known, with
 * no read at all: see ATTEMPTS), and written as a run of its job through `Store.recordRun`,
 * the one run writer, before it is acknowledged: an `OK` always means the ping is stored. Each ping is a run of its own, at its arrival time with
 * a random suffix, so two pings in one millisecond are two runs.
 *
 * `/start` is no run: it marks when the job began, and the next ping that ends it (success,
 * fail or exit code, within 72 hours) records the time between as the run's duration. A paused
 * job's pings are answered and kept, marked `ignored`, but change nothing (no state, no count,
 * no start), as Healthchecks does for checks that resume only by hand.
 *
 * Alerting sees pings like any run, so a failing ping counts toward an incident and a success
 * ping after a late run resolves one. A ping's decision goes in its own commit, made on the
 * job's alert state this process remembers (read once, then known from its own commits); the
 * `OK` goes once that commit is durable. When the state changed meanwhile (the late check, a
 * pause), the commit carries the decide item instead (lib/alerts/engine.ts) and the decision
 * follows the answer, in this process, in each job's order of pings; the item is held by this
 * process, so should it die before deciding, the alert lane takes it over when the hold runs
 * out. One commit a ping instead of a commit, a read and a second commit (bench `pings`).
 */
import type { RunDecisions } from "../alerts/engine.ts";
import type { DecideRequest, VersionedAlertState } from "../store/alerts.ts";
import type { Clock } from "../clock.ts";
import { randomBytes } from "../crypto.ts";
import { readHead } from "../request_body.ts";
import type { JobStats } from "../stats/job_stats.ts";
import {
  type HeartbeatStore,
  type PingFacts,
  type PingTarget,
  START_TTL_MS,
} from "../store/heartbeats.ts";
import { BoundedCache } from "../bounded_cache.ts";
import { runId } from "../store/run_id.ts";
import type { Store } from "../store/store.ts";
import type { Job, PingDetails, Run } from "../store/types.ts";
import { PING_RATE_LIMIT, type RateLimit, TokenBuckets } from "./rate_limit.ts";
import { PING_TOKEN, pingTokenHash } from "./token.ts";

/** Body bytes kept with a ping; the rest is not read. */
export const PING_BODY_BYTES = 10 * 1024;
const HEADER_CHARS = 200;
const decoder = new TextDecoder();

type PingBody = Awaited<ReturnType<typeof readHead>>;

export type PingKind = "success" | "start" | "fail" | "exit";

export interface Ping {
  token: string;
  kind: PingKind;
  /** For `exit`: 0–255. */
  exitCode?: number;
  request: Request;
  /** The connection's peer address, when known. */
  source: string | null;
}

export type PingOutcome =
  | { kind: "ok" }
  | { kind: "not_found" }
  | { kind: "rate_limited"; retryAfterSeconds: number };

export interface PingReceiverOptions {
  /** Writes the ping's run (`recordRun`). */
  store: Store;
  heartbeats: HeartbeatStore;
  clock: Clock;
  stats?: JobStats;
  rateLimit?: RateLimit;
  /** Decides the job's alert state from each ping, as the runner does from each fire. */
  alerts?: RunDecisions;
}

/** Which job a token names, and what this process knows of it. */
interface KnownJob {
  userId: string;
  jobId: string;
  /** Runs kept: read on the first ping, counted on here, read again every REFRESH_EVERY. */
  runsStored: number;
  sinceRead: number;
  /**
   * The job as first read, when alerting is wired in: only what never changes for a heartbeat
   * (its id, owner, checked here alone) is taken from it; its decision reads the job afresh.
   */
  job: Job | null;
  /**
   * The job's token entry and start mark as last read, with the guards that make a write on
   * them fail once either changed; undefined until read, and again after a refused write.
   */
  facts?: PingFacts;
  /**
   * The job and its alert state, for decisions made with a ping's write: read after `facts`
   * (whose token guard fails on any change of the job since, so the job read is current), and
   * known from then on from this process's own commits; undefined until read, and again when
   * `facts` are read again or the state changed elsewhere.
   */
  alert?: { job: Job; state: VersionedAlertState } | null;
}

/**
 * A ping reads nothing on its way in once its job is known here: it is written on the facts
 * remembered from an earlier ping, guarded so the write fails if the job was paused, deleted or
 * given a start meanwhile (then it reads and tries again). A read on the way in waits behind the
 * commit in progress on Deno KV's one writer thread, about a millisecond, and kept pings at
 * 4,000/s where inbound requests (no read) did 11,000/s on the same machine.
 */
const ATTEMPTS = 3;
/**
 * The run count a ping passes to `recordRun` (which prunes by it) is counted here rather than
 * read with the facts: reading it cost Deno KV's writer thread 15 % more per ping (bench
 * `pings`). Pings from other processes are caught up every this many pings.
 */
const REFRESH_EVERY = 50;
/**
 * Decisions that may follow their answers at once; past this (a flood faster than decisions
 * commit), each ping waits for its own, as before, so memory and the lane's takeover work stay
 * bounded.
 */
const MAX_UNDECIDED = 500;

export class PingReceiver {
  private readonly buckets: TokenBuckets;
  /** Which job each token names (that never changes) and what is known of it. */
  private readonly jobs = new BoundedCache<string, KnownJob>();
  /**
   * Each job's decisions still to make after their pings' answers, chained so they commit in
   * the order of the pings: a newer interval decided first would leave an older one decided
   * already, uncounted (as the alert lane chains its items, lib/alerts/engine.ts).
   */
  private readonly deciding = new Map<string, Promise<void>>();
  /** Pings answered whose decisions are not made yet. */
  private undecided = 0;

  constructor(private readonly options: PingReceiverOptions) {
    this.buckets = new TokenBuckets(
      options.rateLimit ?? PING_RATE_LIMIT,
      () => options.clock.now(),
    );
  }

  /** Records one ping; resolves once it is stored (or known not to be wanted). */
  async receive(ping: Ping): Promise<PingOutcome> {
    if (!PING_TOKEN.test(ping.token)) return { kind: "not_found" };
    const hash = pingTokenHash(ping.token);
    // Before the lookup: a flood of one token costs no reads.
    const waitMs = this.buckets.take(hash);
    if (waitMs > 0) return { kind: "rate_limited", retryAfterSeconds: Math.ceil(waitMs / 1000) };
    const job = this.jobs.get(hash) ?? await this.lookUp(hash);
    if (!job) return { kind: "not_found" };
    const head = ping.kind === "start" ? null : await readHead(ping.request, PING_BODY_BYTES);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const facts = job.facts ?? await this.read(hash, job);
      const target = facts.target;
      if (!target) {
        this.jobs.delete(hash);
        return { kind: "not_found" };
      }
      const now = this.options.clock.now();
      if (ping.kind === "start") {
        if (target.enabled) {
          await this.options.heartbeats.markStart(target.userId, target.jobId, now);
          job.facts = undefined;
        }
        return { kind: "ok" };
      }
      const pinged = { ...ping, kind: ping.kind };
      if (await this.record({ job, target, facts, head: head!, now }, pinged)) {
        return { kind: "ok" };
      }
      // The job or its start mark changed since they were read: read them again.
      if (job.facts === facts) job.facts = undefined;
    }
    throw new Error(`Cannot record a ping of job "${job.jobId}": it kept changing meanwhile`);
  }

  /** Resolves once every decision of a ping answered so far is made (tests, `System.stop`). */
  async settled(): Promise<void> {
    while (this.deciding.size > 0) await Promise.all(this.deciding.values());
  }

  private async lookUp(hash: string): Promise<KnownJob | null> {
    const found = await this.options.heartbeats.findByTokenHash(hash);
    if (!found) return null;
    const { userId, jobId } = found;
    const [[facts], decided] = await Promise.all([
      this.options.store.runFacts([[userId, jobId]]),
      this.options.alerts?.facts([[userId, jobId]]),
    ]);
    const job = decided?.[0].job ?? null;
    return this.jobs.set(hash, { userId, jobId, runsStored: facts.runsStored, sinceRead: 0, job });
  }

  private async read(hash: string, job: KnownJob): Promise<PingFacts> {
    const facts = await this.options.heartbeats.pingFacts(hash, job);
    job.facts = facts;
    job.alert = undefined;
    return facts;
  }

  /** The job and its alert state to decide a ping with its write (see `KnownJob.alert`). */
  private async alertFacts(job: KnownJob): Promise<KnownJob["alert"]> {
    if (job.alert !== undefined) return job.alert;
    const [read] = await this.options.alerts!.facts([[job.userId, job.jobId]]);
    return job.alert = read.job ? { job: read.job, state: read.state } : null;
  }

  /** Reads a job's run count again, off the ping's path. */
  private refresh(job: KnownJob): void {
    job.sinceRead = 0;
    this.options.store.runFacts([[job.userId, job.jobId]]).then(
      ([facts]) => job.runsStored = facts.runsStored,
      (error) => console.error(`Cannot read the run count of job "${job.jobId}": ${error.message}`),
    );
  }

  /** Writes the ping's run; false when a guard refused it. */
  private async record(
    read: { job: KnownJob; target: PingTarget; facts: PingFacts; head: PingBody; now: number },
    ping: Ping & { kind: PingDetails["kind"] },
  ): Promise<boolean> {
    const { store, heartbeats, stats, alerts } = this.options;
    const { job, target, facts, head, now } = read;
    const { userId, jobId } = target;
    const ignored = !target.enabled;
    const startedAt = !ignored && facts.startedAt !== null && facts.startedAt <= now &&
        now - facts.startedAt <= START_TTL_MS
      ? facts.startedAt
      : null;
    const success = ping.kind === "success" || (ping.kind === "exit" && ping.exitCode === 0);
    const headers = ping.request.headers;
    const details: PingDetails = {
      kind: ping.kind,
      exitCode: ping.kind === "exit" ? ping.exitCode ?? null : null,
      method: ping.request.method,
      source: ping.source,
      forwardedFor: headers.get("x-forwarded-for")?.slice(0, HEADER_CHARS) ?? null,
      userAgent: headers.get("user-agent")?.slice(0, HEADER_CHARS) ?? null,
      body: decoder.decode(head.bytes),
      bodyTruncated: head.truncated,
      ignored,
    };
    // Random, not a counter: pings to one job from several processes never share an id.
    const suffix = `ping-${randomBytes(6).toHex()}`;
    const stamp = new Date(now).toISOString();
    const run: Run = {
      id: runId(now, suffix),
      jobId,
      userId,
      where: "local",
      trigger: "AUTO",
      status: success ? "success" : "failure",
      code: 0,
      scheduledAt: stamp,
      startedAt: new Date(startedAt ?? now).toISOString(),
      finishedAt: stamp,
      durationMs: startedAt === null ? null : now - startedAt,
      lateMs: null,
      response: null,
      error: success ? null : {
        category: "reported",
        message: ping.kind === "fail"
          ? "The job reported a failure"
          : `The job exited with code ${ping.exitCode}`,
      },
      failure: null,
      ping: details,
    };
    // A paused job's ping decides nothing: the job's state stays `paused`.
    const decides = alerts && !ignored && job.job ? job.job : null;
    if (decides) await alerts!.markMaintenance(run, decides);
    const decide = decides ? alerts!.requestFor(run, decides) ?? undefined : undefined;
    // Made with the write unless the job has decisions still to make after earlier answers:
    // those go first, in the order of their pings.
    const alert = decide && !this.deciding.has(JSON.stringify([userId, jobId]))
      ? await this.alertFacts(job)
      : null;
    const decided = alert ? await alerts!.decideAhead(run, alert.job, decide!, alert.state) : null;
    const recorded = await store.recordRun({
      run,
      scheduledAt: now,
      suffix,
      lease: null,
      runsStored: job.runsStored,
      // A paused job's ping is kept for reading: not an execution, and it decides nothing.
      counts: !ignored,
      guards: facts.guards,
      decide,
      decided: decided ?? undefined,
    });
    // A ping's run id is random, so a refused write is a guard's doing, never a repeat.
    if (!recorded) return false;
    job.runsStored++;
    if (++job.sinceRead >= REFRESH_EVERY) this.refresh(job);
    if (ignored) return true;
    if (startedAt !== null) {
      await heartbeats.clearStart(userId, jobId, startedAt);
      if (job.facts === facts) job.facts = undefined;
    }
    stats?.observe(userId, jobId, {
      at: now,
      ok: success,
      latencyMs: run.durationMs,
      lateMs: null,
    });
    if (decided?.applied) {
      const state = { state: decided.decision.next, version: decided.version! };
      if (job.alert === alert) job.alert = { job: alert!.job, state };
      await alerts!.afterRecord(run, alert!.job, decide!, undefined, decided);
    } else if (decide) {
      // Its state changed elsewhere: read again for the next ping's decision.
      job.alert = undefined;
      const decided = this.decideAfter(run, decide);
      // Answers must not outrun decisions without bound: past this many, a ping waits for its own.
      if (this.undecided > MAX_UNDECIDED) await decided;
    }
    return true;
  }

  /** Decides what a ping's run allows, after the run's earlier pings of the same job. */
  private decideAfter(run: Run, request: DecideRequest): Promise<void> {
    const key = JSON.stringify([run.userId, run.jobId]);
    this.undecided++;
    const decided = (this.deciding.get(key) ?? Promise.resolve()).then(() =>
      this.decide(run, request)
    );
    this.deciding.set(key, decided);
    decided.then(() => {
      this.undecided--;
      if (this.deciding.get(key) === decided) this.deciding.delete(key);
    });
    return decided;
  }

  /** Never throws: what cannot be decided here is the alert lane's once the item's hold ends. */
  private async decide(run: Run, request: DecideRequest): Promise<void> {
    const alerts = this.options.alerts!;
    try {
      // The job and its state as they are now: its alert settings may have changed since the
      // first ping. One read, as the runner's own read of its job brings the state along.
      const [current] = await alerts.facts([[run.userId, run.jobId]]);
      if (current.job) await alerts.afterRecord(run, current.job, request, current.state);
    } catch (error) {
      console.error(
        `Cannot decide the state of job "${run.jobId}" now, the alert lane will: ${
          (error as Error).message
        }`,
      );
    }
  }
}
