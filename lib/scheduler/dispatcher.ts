/**
 * The dispatcher starts claimed fires at their time. Pending fires sit in the store under
 * `["fire", at, …]`; at each whole second (and when woken) the dispatcher leases the due
 * ones with compare-and-set, moving each to `["lease", until, …]`, and hands them to the
 * runner. A second process doing the same is harmless: a fire can be leased once. A lease
 * that runs out (its process died mid-run) is taken again, so nothing claimed is lost.
 */
import type { Clock } from "../clock.ts";
import { kvKeys } from "../store/kv_keys.ts";
import { fireFromKey, fireFromLeaseKey, type FireTask, type FireValue, leaseMs } from "./fires.ts";

const LEASE_GROUP = 45; // two checks' worth of keys per fire stays under KV's 100 checks

export interface DispatcherOptions {
  kv: Deno.Kv;
  clock: Clock;
  maxConcurrency: number;
  /** Runs one fire; must release or complete `leaseKey`. */
  execute: (task: FireTask, leaseKey: Deno.KvKey, leaseUntil: number) => Promise<void>;
}

export class Dispatcher {
  private inFlight = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private wakeAt = Infinity;
  private draining: Promise<void> | null = null;
  private again = false;
  private running = false;
  private readonly idle: Array<() => void> = [];
  /** Epoch ms of the last completed drain, for the health check. */
  lastDrainAt = 0;

  constructor(private readonly options: DispatcherOptions) {}

  get active(): number {
    return this.inFlight;
  }

  /** Drains at every whole second until stopped. */
  start(): void {
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.drain().catch((error) => console.error(`Dispatcher error: ${error.message}`));
      // Fire times are whole seconds: wake just after each one.
      this.timer = setTimeout(loop, 1000 - (Date.now() % 1000) + 1);
    };
    loop();
  }

  /** Stops waking and waits for the runs in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.timer = this.wakeTimer = null;
    await this.draining;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Asks for a drain at `at` (epoch ms), or now. */
  wake(at = 0): void {
    const delay = at - this.options.clock.now();
    if (delay <= 0) {
      this.drain().catch((error) => console.error(`Dispatcher error: ${error.message}`));
      return;
    }
    if (!this.running || at >= this.wakeAt) return;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.wake();
    }, delay);
  }

  /** Leases and starts every due fire (and every expired lease) that capacity allows. */
  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.again = false;
          await this.drainOnce();
        } while (this.again);
      } finally {
        this.draining = null;
        this.lastDrainAt = this.options.clock.now();
      }
    })();
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    const { kv, clock } = this.options;
    for (;;) {
      const capacity = this.options.maxConcurrency - this.inFlight;
      if (capacity <= 0) return;
      const now = clock.now();
      const expired = await list<FireValue>(kv, kvKeys.leases(), now + 1, capacity);
      const due = await list<FireValue>(kv, kvKeys.fires(), now + 1, capacity - expired.length);
      if (expired.length + due.length === 0) return;
      const tasks = [
        ...expired.map((e) => ({ entry: e, task: fireFromLeaseKey(e.key, e.value) })),
        ...due.map((e) => ({ entry: e, task: fireFromKey(e.key, e.value) })),
      ];
      for (let i = 0; i < tasks.length; i += LEASE_GROUP) {
        await this.leaseAndStart(tasks.slice(i, i + LEASE_GROUP), now);
      }
    }
  }

  private async leaseAndStart(
    group: { entry: Deno.KvEntry<FireValue>; task: FireTask }[],
    now: number,
  ): Promise<void> {
    const leased = group.map(({ entry, task }) => {
      const until = now + leaseMs(task.timeoutMs);
      return {
        entry,
        task,
        until,
        leaseKey: kvKeys.lease(until, task.at, task.userId, task.jobId, task.suffix),
      };
    });
    const op = this.options.kv.atomic();
    for (const l of leased) op.check(l.entry).delete(l.entry.key).set(l.leaseKey, l.entry.value);
    let started = leased;
    if (!(await op.commit()).ok) {
      // Another process leased some of these: take the rest one by one.
      started = [];
      for (const l of leased) {
        const one = await this.options.kv.atomic().check(l.entry).delete(l.entry.key)
          .set(l.leaseKey, l.entry.value).commit();
        if (one.ok) started.push(l);
      }
    }
    for (const l of started) this.start1(l.task, l.leaseKey, l.until);
  }

  private start1(task: FireTask, leaseKey: Deno.KvKey, until: number): void {
    this.inFlight++;
    this.options.execute(task, leaseKey, until)
      .catch((error) => {
        // The lease stays: the fire is retried when it runs out.
        console.error(`Cannot run job "${task.jobId}": ${(error as Error).message}`);
      })
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
        if (this.running && this.inFlight === this.options.maxConcurrency - 1) this.wake();
      });
  }
}

async function list<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  before: number,
  limit: number,
): Promise<Deno.KvEntry<T>[]> {
  if (limit <= 0) return [];
  const out: Deno.KvEntry<T>[] = [];
  for await (const entry of kv.list<T>({ start: prefix, end: [...prefix, before] }, { limit })) {
    out.push(entry);
  }
  return out;
}
