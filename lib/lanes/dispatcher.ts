/**
 * A durable timed work queue on Deno KV, and the loop that starts its items on time. Items
 * wait under `[...pending, at, ...id]`; when `at` comes the dispatcher leases them with
 * compare-and-set, moving each to `[...leased, until, at, ...id]`, and hands them to
 * `execute`, which must delete the lease when done (with its result, atomically). A second
 * process doing the same is harmless: an item can be leased once. A lease that runs out (its
 * process died mid-work) is taken again, so nothing is lost.
 *
 * Items may also be leased ahead of their time and held in memory (`hold`). Such a lease runs
 * out at the item's time: just before starting the item, its holder moves it to a working
 * lease with compare-and-set (`Lease.ahead`), so a process that dies before its items' time
 * leaves them to be started on time by any other, and a holder that comes too late to its own
 * item finds it taken and leaves it. Only items already started wait for their lease.
 *
 * Each durable lane is one: fires of jobs, webhook deliveries, worker results and inbound
 * actions. A feature's factory builds its lane (see system.ts). Why not the Deno KV queue: measured
 * here it delivers about 1,600 messages a second, with seconds of lateness under a burst;
 * this starts thousands of items a second within milliseconds of their time.
 */
import type { Clock } from "../clock.ts";
import { getMany } from "../store/kv/get_many.ts";
import { GroupCommitter } from "../store/kv/group_commit.ts";

/** Two checks' worth of keys per item stays under Deno KV's 100 checks per operation. */
const LEASE_GROUP = 45;
/**
 * How long before its time a held item is marked started: room for the write to land before
 * the item's lease runs out, yet short, since a holder dying after it leaves the item to wait
 * for its working lease.
 */
const START_LEAD_MS = 100;

export interface QueueItem<V> {
  at: number;
  id: Deno.KvKeyPart[];
  value: V;
  /** Taken again after a lease ran out: an earlier attempt may have done part of the work. */
  retaken: boolean;
}

export interface Lease {
  key: Deno.KvKey;
  until: number;
  /**
   * Set on a lease held ahead and not started (its `until` is the item's time): the
   * versionstamp it was written with. Starting the item first moves the lease, on that check,
   * to a working lease holding the item's value (which must be the stored value).
   */
  ahead?: string;
}

export interface DispatcherOptions<V> {
  kv: Deno.Kv;
  clock: Clock;
  maxConcurrency: number;
  /** Key prefix of waiting items, e.g. `["fire"]`. */
  pending: Deno.KvKey;
  /** Key prefix of leased items, e.g. `["lease"]`. */
  leased: Deno.KvKey;
  /** How long an item may run before another process may take it again. */
  leaseMs: (value: V) => number;
  /**
   * Runs one item; must delete `lease.key` when done. A throw leaves the lease to run out.
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
  /** Names the queue in logs. */
  name: string;
}

function pendingKey(prefix: Deno.KvKey, at: number, id: Deno.KvKeyPart[]): Deno.KvKey {
  return [...prefix, at, ...id];
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
  private preparing = 0;
  private readonly prepareQueue: (() => void)[] = [];
  /** Leased items this process claimed ahead of time, by their time (see `hold`). */
  private readonly heldByTime = new Map<number, Held<V>[]>();
  /** Lease keys (as text) held or running here: expired-lease recovery leaves them alone. */
  private readonly mine = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private wakeAt = Infinity;
  private draining: Promise<void> | null = null;
  private again = false;
  private running = false;
  private readonly idle: Array<() => void> = [];
  /** Marks held items started: items starting together share a commit. */
  private readonly starts: GroupCommitter;
  /** Epoch ms of the last completed drain, for the health check. */
  lastDrainAt = 0;

  constructor(private readonly options: DispatcherOptions<V>) {
    this.starts = new GroupCommitter(options.kv, LEASE_GROUP);
  }

  get active(): number {
    return this.inFlight;
  }

  /** Items waiting that are due by now, counted up to `limit` (for `/metrics`). */
  async countDue(limit: number): Promise<number> {
    const { kv, pending, clock } = this.options;
    let n = 0;
    const end = [...pending, clock.now() + 1];
    for await (const _ of kv.list({ start: pending, end }, { limit })) n++;
    return n;
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
    let earliest = Infinity;
    for (const held of items) {
      const key = keyText(held.lease.key);
      if (this.mine.has(key)) continue;
      this.mine.add(key);
      const bucket = this.heldByTime.get(held.item.at);
      if (bucket) bucket.push(held);
      else this.heldByTime.set(held.item.at, [held]);
      earliest = Math.min(earliest, held.item.at);
    }
    // Items already due start now, without a round trip through a drain's listings.
    if (earliest !== Infinity) this.startHeld(this.options.clock.now());
  }

  /**
   * Stops waking, hands the held items not yet started back as pending ones (so a restart or
   * another process starts them on time, not when their leases run out), and waits for the
   * work in flight.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.timer = this.wakeTimer = null;
    this.wakeAt = Infinity;
    await this.draining;
    await this.releaseHeld();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async releaseHeld(): Promise<void> {
    const held = [...this.heldByTime.values()].flat();
    this.heldByTime.clear();
    const { kv, pending } = this.options;
    for (let i = 0; i < held.length; i += LEASE_GROUP) {
      const group = held.slice(i, i + LEASE_GROUP);
      const entries = await getMany(kv, group.map((h) => h.lease.key));
      const op = kv.atomic();
      group.forEach((h, j) => {
        if (entries[j].versionstamp === null) return;
        // The stored value: what the process keeps in memory beside it is not for others.
        op.check(entries[j] as Deno.KvEntry<unknown>).delete(h.lease.key)
          .set(pendingKey(pending, h.item.at, h.item.id), entries[j].value);
      });
      await op.commit();
      for (const h of group) this.mine.delete(keyText(h.lease.key));
    }
  }

  /** Asks for a drain at `at` (epoch ms), or now. */
  wake(at = 0): void {
    const delay = at - this.options.clock.now();
    if (delay <= 0) return this.drainLogged();
    if (!this.running || at >= this.wakeAt) return;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.drainLogged();
    }, delay);
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
      console.error(`Cannot drain the ${this.options.name} queue: ${(error as Error).message}`)
    );
  }

  /** Starts held items whose time (less the lead for preparing) has come, as capacity allows. */
  private startHeld(now: number): void {
    const lead = this.options.leadMs ?? 0;
    const times = [...this.heldByTime.keys()].filter((at) => at - lead <= now)
      .sort((a, b) => a - b);
    for (const at of times) {
      const bucket = this.heldByTime.get(at)!;
      while (bucket.length > 0 && this.inFlight < this.options.maxConcurrency) {
        const held = bucket.shift()!;
        this.startOne(held.item, held.lease);
      }
      if (bucket.length > 0) return;
      this.heldByTime.delete(at);
    }
    const next = Math.min(...this.heldByTime.keys());
    if (next !== Infinity && next - lead > now) this.wake(next - lead);
  }

  private async drainOnce(): Promise<void> {
    const { kv, clock, pending, leased } = this.options;
    this.startHeld(clock.now());
    for (;;) {
      const capacity = this.options.maxConcurrency - this.inFlight;
      if (capacity <= 0) return;
      const now = clock.now();
      // Leases held or running here are not expired work, however late this process is.
      const expired = (await listBefore<V>(kv, leased, now + 1, capacity + this.mine.size))
        .filter((entry) => !this.mine.has(keyText(entry.key)))
        .slice(0, capacity);
      const due = await listBefore<V>(kv, pending, now + 1, capacity - expired.length);
      if (expired.length + due.length === 0) return;
      const entries = [
        ...expired.map((entry) => ({ entry, at: entry.key[leased.length + 1] as number, skip: 2 })),
        ...due.map((entry) => ({ entry, at: entry.key[pending.length] as number, skip: 1 })),
      ];
      for (let i = 0; i < entries.length; i += LEASE_GROUP) {
        await this.leaseAndStart(entries.slice(i, i + LEASE_GROUP), now);
      }
    }
  }

  private async leaseAndStart(
    group: { entry: Deno.KvEntry<V>; at: number; skip: number }[],
    now: number,
  ): Promise<void> {
    const { kv, leased } = this.options;
    const items = group.map(({ entry, at, skip }) => {
      const prefixLength = skip === 2 ? leased.length : this.options.pending.length;
      const id = entry.key.slice(prefixLength + skip) as Deno.KvKeyPart[];
      const until = now + this.options.leaseMs(entry.value);
      // A lease that ran out at its item's own time was held ahead and never started.
      const retaken = skip === 2 && entry.key[leased.length] !== at;
      return {
        entry,
        item: { at, id, value: entry.value, retaken },
        lease: { key: [...leased, until, at, ...id], until },
      };
    });
    const op = kv.atomic();
    for (const l of items) op.check(l.entry).delete(l.entry.key).set(l.lease.key, l.entry.value);
    let started = items;
    if (!(await op.commit()).ok) {
      // Another process leased some of these: take the rest one by one.
      started = [];
      for (const l of items) {
        const one = await kv.atomic().check(l.entry).delete(l.entry.key)
          .set(l.lease.key, l.entry.value).commit();
        if (one.ok) started.push(l);
      }
    }
    for (const l of started) this.startOne(l.item, l.lease);
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
        : this.sleepUntil(item.at - START_LEAD_MS).then(() => this.markStarted(item, lease)),
    ]);
    // Withdrawn (its job changed), or taken over by another process while this one was late.
    if (!working) return;
    const moved = working === lease ? null : keyText(working.key);
    if (moved) this.mine.add(moved);
    try {
      await this.sleepUntil(item.at);
      await execute(item, working, prepared);
    } finally {
      if (moved) this.mine.delete(moved);
    }
  }

  /** Moves a lease held ahead to a working one; null if the held lease is gone. */
  private async markStarted(item: QueueItem<V>, held: Lease): Promise<Lease | null> {
    const { leased, leaseMs, clock } = this.options;
    const until = Math.max(item.at, clock.now()) + leaseMs(item.value);
    const key = [...leased, until, item.at, ...item.id];
    const moved = await this.starts.commit((op) =>
      op.check({ key: held.key, versionstamp: held.ahead! }).delete(held.key).set(key, item.value)
    );
    return moved ? { key, until } : null;
  }

  private async sleepUntil(at: number): Promise<void> {
    const wait = at - this.options.clock.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
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
    const key = keyText(lease.key);
    this.mine.add(key);
    this.run(item, lease)
      .catch((error) => {
        console.error(
          `Cannot finish ${this.options.name} item ${item.id.join("/")}: ${
            (error as Error).message
          }`,
        );
      })
      .finally(() => {
        this.mine.delete(key);
        this.inFlight--;
        if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
        if (this.running && this.inFlight === this.options.maxConcurrency - 1) this.wake();
      });
  }
}

function keyText(key: Deno.KvKey): string {
  return JSON.stringify(key);
}

async function listBefore<T>(
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
