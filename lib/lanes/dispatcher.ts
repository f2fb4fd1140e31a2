/**
 * A durable timed work queue (a lane) and the loop that starts its items on time. Items wait
 * in the lane store (lib/store/lanes.ts) until their time; then the dispatcher leases them
 * with compare-and-set and hands them to `execute`, which must end the lease when done (with
 * its result, in the same write, e.g. `Store.recordRun`; or `LaneStore.release`). A second
 * process doing the same is harmless: an item can be leased once. A lease that runs out (its
 * process died mid-work) is taken again, so nothing is lost.
 *
 * Items may also be leased ahead of their time and held in memory (`hold`). Such a lease runs
 * out at the item's time: just before starting the item, its holder moves it to a working
 * lease with compare-and-set (`Lease.ahead`, `LaneStore.start`; starts due together share a
 * commit), so a process that dies before its items' time leaves them to be started on time by
 * any other, and a holder that comes too late to its own item finds it taken and leaves it.
 * Only items already started wait for their lease.
 *
 * Each durable lane is one: fires of jobs, webhook deliveries, worker results and inbound
 * actions. Why not the Deno KV queue: measured here it delivers about 1,600 messages a second,
 * with seconds of lateness under a burst; this starts thousands of items a second within
 * milliseconds of their time.
 *
 * A feature builds its lane in its factory (see lib/webhooks/feature.ts), before whatever
 * wakes it:
 * 1. name the lane: add it to `LaneName` (lib/store/lanes.ts) and its keys to `LANES`
 *    (lib/store/kv/keys.ts);
 * 2. `new Dispatcher<V>({ lane, store: stores.lanes, clock, maxConcurrency, leaseMs, execute })`,
 *    with `execute` ending each lease (the handler takes the `LaneStore` for `release`);
 * 3. queue items with `LaneStore.add` (or in the store write that makes them due, as a run's
 *    outbox does) and call `wake(at)`; the factory returns the lane, and system.ts starts,
 *    drains and stops it with the others.
 */
import type { Clock } from "../clock.ts";
import type { LaneItem, LaneName, LaneStore, Lease, ListedItem } from "../store/lanes.ts";
import { Alarm } from "./alarm.ts";
import { TimeHeap } from "./time_heap.ts";

export type { Lease };

/**
 * Items leased per call to the store: small enough for one commit of Deno KV (the store
 * splits anything larger), so the first items start while the next are still being leased.
 */
const TAKE_GROUP = 45;
/**
 * How long before its time a held item is marked started: room for the write to land before
 * the item's lease runs out, yet short, since a holder dying after it leaves the item to wait
 * for its working lease.
 */
const START_LEAD_MS = 100;
/**
 * Held items are marked started in slots this long (at least START_LEAD_MS before their time):
 * the marks of a slot's items share a commit. Fires spread over the second (one every 2 ms for
 * 10,000 monitors `@every 20s`) were otherwise marked one commit each, the biggest share of
 * Deno KV's writer thread per check (bench `monitors`).
 */
const START_SLOT_MS = 100;
/**
 * Held items whose lead begins this soon are started by the same wake. Each was otherwise woken
 * twice on its own (at its prepare lead and at its ready lead), with fires spread over the
 * second: two event-loop turns a check more. Starting one up to this much early changes nothing
 * but how long it waits for its time.
 */
export const HELD_BATCH_MS = 50;

export interface QueueItem<V> extends LaneItem<V> {
  /** Taken again after a lease ran out: an earlier attempt may have done part of the work. */
  retaken: boolean;
}

export interface DispatcherOptions<V> {
  /** Which lane this is; also names it in logs. */
  lane: LaneName;
  /** Where the lane's items and leases are kept. */
  store: LaneStore;
  clock: Clock;
  maxConcurrency: number;
  /** How long an item may run before another process may take it again. */
  leaseMs: (value: V) => number;
  /**
   * Runs one item; must end `lease` when done. A throw leaves the lease to run out.
   * `prepared` is what `prepare` returned for it, when there is a `prepare`.
   */
  execute: (item: QueueItem<V>, lease: Lease, prepared?: unknown) => Promise<void>;
  /**
   * Reads what an item needs ahead of its time (held items: `leadMs` before it), so that at
   * its time only the work itself remains. Thousands of items due in the same second then
   * do their reads spread over the second before instead of queueing at the start of it.
   */
  prepare?: (item: QueueItem<V>, lease: Lease) => Promise<unknown>;
  leadMs?: number;
  /**
   * Whether an item's `prepare` will read nothing (its job is in memory): such an item starts
   * `readyLeadMs` before its time instead of `leadMs`. What a started item holds while it waits
   * outlives young-generation collections when the wait is long: with 1 s, 5,000 monitors
   * promoted ~8 KB a check to the old generation (bench `monitors`). Items that do read keep
   * the longer lead: 5,000 jobs due in one second read in the second before it.
   */
  ready?: (item: QueueItem<V>) => boolean;
  readyLeadMs?: number;
}

interface Held<V> {
  item: QueueItem<V>;
  lease: Lease;
}

/**
 * Prepares reading at once. Deno KV serves one process's operations in order, so hundreds of
 * read-aheads issued together would make the commits of the work running now wait behind
 * them; a few at a time keep the store busy and let those commits through between them.
 */
const PREPARE_CONCURRENCY = 8;

export class Dispatcher<V = unknown> {
  private inFlight = 0;
  /** Runs in flight that wait for their time (see `busy`). */
  private waitingForTime = 0;
  private preparing = 0;
  private readonly prepareQueue: (() => void)[] = [];
  /** Leased items this process claimed ahead of time, soonest first (see `hold`). */
  private readonly held = new TimeHeap<Held<V>>((held) => held.item.at);
  /** Held items past `leadMs` whose prepare reads nothing (`ready`), until `readyLeadMs`. */
  private readonly readySoon = new TimeHeap<Held<V>>((held) => held.item.at);
  /**
   * Leases (as text) running here: expired-lease recovery leaves them alone. Held ones are not
   * in it (tens of thousands of strings): one is listed as run out only once its time passed
   * unstarted, and should recovery take it, the holder's start then fails its check.
   */
  private readonly mine = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A drain asked for later (`wake`). */
  private readonly wakeAlarm = new Alarm(() => this.drainLogged(), () => this.options.clock.now());
  /**
   * Starts the next held items when their time comes, with no drain: held items are in
   * memory, and a drain lists the store twice. Spread over the second, fires came due hundreds
   * of times a second, and their wakes' listings were most of Deno KV's work per check.
   */
  private readonly heldAlarm = new Alarm(
    () => this.startHeld(this.options.clock.now()),
    () => this.options.clock.now(),
  );
  private draining: Promise<void> | null = null;
  private again = false;
  private running = false;
  private readonly idle: Array<() => void> = [];
  /** Epoch ms of the last completed drain, for the health check. */
  lastDrainAt = 0;

  constructor(private readonly options: DispatcherOptions<V>) {}

  get active(): number {
    return this.inFlight;
  }

  /**
   * Work in flight that finishes without the clock moving: runs not waiting for their time,
   * and reads ahead (a run may read while it waits). Tests settle on it: on a manual clock, a
   * run started ahead waits until the test moves the clock to its time.
   */
  get busy(): number {
    return this.inFlight - this.waitingForTime + this.preparing;
  }

  /** Items waiting that are due by now, counted up to `limit` (for `/metrics`). */
  countDue(limit: number): Promise<number> {
    const { store, lane, clock } = this.options;
    return store.countDue(lane, clock.now(), limit);
  }

  /** Drains at every whole second until stopped. */
  start(): void {
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.drainLogged();
      this.timer = setTimeout(loop, 1000 - (Date.now() % 1000) + 1);
    };
    loop();
  }

  /**
   * Takes items already leased to this process (claimed ahead by the scheduler) and starts
   * each at its time. Should this process die first, the leases run out and any process takes
   * the items over: at their time for leases held ahead (`Lease.ahead`).
   */
  hold(items: Held<V>[]): void {
    for (const held of items) this.held.push(held);
    // Items already due start now, without a round trip through a drain's listings.
    if (items.length > 0) this.startHeld(this.options.clock.now());
  }

  /**
   * Stops waking, hands the held items not yet started back as pending ones (so a restart or
   * another process starts them on time, not when their leases run out), and waits for the
   * work in flight: with runs started ahead, for their time (under a second; on a manual
   * clock, until the test moves it there).
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.wakeAlarm.cancel();
    this.heldAlarm.cancel();
    await this.draining;
    await this.releaseHeld();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async releaseHeld(): Promise<void> {
    const held = [...this.held.takeAll(), ...this.readySoon.takeAll()];
    if (held.length === 0) return;
    await this.options.store.handBack(this.options.lane, held);
  }

  /** Asks for a drain at `at` (epoch ms), or now. */
  wake(at = 0): void {
    const delay = at - this.options.clock.now();
    if (delay <= 0) return this.drainLogged();
    if (this.running) this.wakeAlarm.set(at);
  }

  /** Leases and starts every due item (and every expired lease) that capacity allows. */
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

  private drainLogged(): void {
    this.drain().catch((error) =>
      console.error(`Cannot drain the ${this.options.lane} lane: ${(error as Error).message}`)
    );
  }

  /** Starts held items whose time (less the lead for preparing) has come, as capacity allows. */
  private startHeld(now: number): void {
    const { leadMs: lead = 0, readyLeadMs: readyLead = lead, ready } = this.options;
    const upTo = now + HELD_BATCH_MS;
    while (this.held.peekTime() - lead <= upTo) {
      // Out of capacity: the run that ends first wakes a drain, which starts the rest.
      if (this.inFlight >= this.options.maxConcurrency) return;
      const held = this.held.pop()!;
      if (held.item.at - readyLead > upTo && ready?.(held.item)) this.readySoon.push(held);
      else this.startOne(held.item, held.lease);
    }
    while (this.readySoon.peekTime() - readyLead <= upTo) {
      if (this.inFlight >= this.options.maxConcurrency) return;
      const held = this.readySoon.pop()!;
      this.startOne(held.item, held.lease);
    }
    const next = Math.min(this.held.peekTime() - lead, this.readySoon.peekTime() - readyLead);
    if (next !== Infinity && this.running) this.heldAlarm.set(next);
  }

  private async drainOnce(): Promise<void> {
    const { store, lane, clock } = this.options;
    this.startHeld(clock.now());
    for (;;) {
      const capacity = this.options.maxConcurrency - this.inFlight;
      if (capacity <= 0) return;
      const now = clock.now();
      // Leases held or running here are not expired work, however late this process is.
      const expired = (await store.listExpired<V>(lane, now, capacity + this.mine.size))
        .filter((listed) => !this.mine.has(leaseText(listed.lease!)))
        .slice(0, capacity);
      const due = await store.listDue<V>(lane, now, capacity - expired.length);
      if (expired.length + due.length === 0) return;
      const listed = [...expired, ...due];
      for (let i = 0; i < listed.length; i += TAKE_GROUP) {
        await this.takeAndStart(listed.slice(i, i + TAKE_GROUP), now);
      }
    }
  }

  private async takeAndStart(group: ListedItem<V>[], now: number): Promise<void> {
    const { store, lane, leaseMs } = this.options;
    const leases = await store.take(
      lane,
      group.map((item) => ({ item, until: now + leaseMs(item.value) })),
    );
    group.forEach(({ at, id, value, lease: ranOut }, i) => {
      const lease = leases[i];
      // Another process leased it first.
      if (!lease) return;
      // A lease that ran out at its item's own time was held ahead and never started.
      const retaken = ranOut !== undefined && ranOut.until !== at;
      this.startOne({ at, id, value, retaken }, lease);
    });
  }

  /**
   * Prepares an item and, if it is held ahead, marks it started (on its own schedule, not
   * after the read: a burst's reads run past the items' time, and the marks must not); then
   * waits for its time and executes it.
   */
  private async run(item: QueueItem<V>, lease: Lease): Promise<void> {
    const { prepare, execute } = this.options;
    const [prepared, working] = await Promise.all([
      prepare ? this.paced(() => prepare(item, lease)) : undefined,
      lease.ahead === undefined
        ? lease
        : this.sleepUntil(startSlotOf(item.at)).then(() => this.markStarted(item, lease)),
    ]);
    // Withdrawn (its job changed), or taken over by another process while this one was late.
    if (!working) return;
    const moved = working === lease ? null : leaseText(working);
    if (moved) this.mine.add(moved);
    try {
      await this.sleepUntil(item.at);
      await execute(item, working, prepared);
    } finally {
      if (moved) this.mine.delete(moved);
    }
  }

  /** Moves a lease held ahead to a working one; null if the held lease is gone. */
  private markStarted(item: QueueItem<V>, held: Lease): Promise<Lease | null> {
    const { store, lane, leaseMs, clock } = this.options;
    const until = Math.max(item.at, clock.now()) + leaseMs(item.value);
    return store.start(lane, item, held, until);
  }

  private async sleepUntil(at: number): Promise<void> {
    const { clock } = this.options;
    if (at <= clock.now()) return;
    this.waitingForTime++;
    try {
      await clock.until(at);
    } finally {
      this.waitingForTime--;
    }
  }

  /** Runs `read` once fewer than PREPARE_CONCURRENCY others are running. */
  private async paced<T>(read: () => Promise<T>): Promise<T> {
    if (this.preparing < PREPARE_CONCURRENCY) this.preparing++;
    else await new Promise<void>((resolve) => this.prepareQueue.push(resolve)); // slot handed on
    try {
      return await read();
    } finally {
      const next = this.prepareQueue.shift();
      if (next) next();
      else this.preparing--;
    }
  }

  private startOne(item: QueueItem<V>, lease: Lease): void {
    this.inFlight++;
    // A lease held ahead is not expired work before its time (see `mine`), and its start moves
    // it to a working lease, which `run` notes.
    const key = lease.ahead === undefined ? leaseText(lease) : null;
    if (key !== null) this.mine.add(key);
    this.run(item, lease)
      .catch((error) => {
        console.error(
          `Cannot finish ${this.options.lane} item ${item.id.join("/")}: ${
            (error as Error).message
          }`,
        );
      })
      .finally(() => {
        if (key !== null) this.mine.delete(key);
        this.inFlight--;
        if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
        if (this.running && this.inFlight === this.options.maxConcurrency - 1) this.wake();
      });
  }
}

/** A lease as text, to know it again: refs to one lease are equal as JSON. */
function leaseText(lease: Lease): string {
  return JSON.stringify(lease.ref);
}

/** When a held item due at `at` is marked started: the start of its slot (see START_SLOT_MS). */
export function startSlotOf(at: number): number {
  return Math.floor((at - START_LEAD_MS) / START_SLOT_MS) * START_SLOT_MS;
}
