/**
 * The contract for durable lanes (lib/lanes/dispatcher.ts): timed work items that wait for
 * their time, are leased to one process with compare-and-set, and are taken over by any
 * process once a lease runs out. Fires of jobs, webhook deliveries, worker results, inbound
 * actions, alert decisions and notifications each have a lane.
 *
 * In domain terms, so that a SQL store can keep it too: an item is a row (lane, due time, id,
 * value) that is either waiting or leased until a time, with a version that changes on every
 * write. Taking an item is an update guarded by the version it was listed with (or a
 * `SELECT … FOR UPDATE SKIP LOCKED`), so two processes taking the same item never both get it.
 * Rules any implementation must keep:
 * - an item is waiting or leased, never both, and a take, start or hand-back is all or nothing
 *   for that item;
 * - a lease that ran out is listed by `listExpired` and can be taken again, by anyone;
 * - `release` (or a store write given the lease, such as `Store.recordRun`) ends a lease.
 */

/**
 * The durable lanes. A new lane is one more name here; the Deno KV store keeps its items under
 * keys named in lib/store/kv/keys.ts (`LANES`).
 */
export type LaneName = "fire" | "delivery" | "results" | "inbound" | "alert" | "notification";

/**
 * An item's identity within its lane, beside its due time: e.g. `[userId, jobId, suffix]` for
 * a fire, `[deliveryId]` for a delivery.
 */
export type LaneItemId = readonly (string | number)[];

export interface LaneItem<V> {
  /** When the item is due (epoch ms). */
  at: number;
  id: LaneItemId;
  value: V;
}

/**
 * A lease as the store names it (a fire being run, a chunk of worker results being stored):
 * plain data, opaque outside the store and the lane that issued it. Two refs to one lease are
 * equal as JSON.
 */
export type LeaseRef = readonly unknown[];

export interface Lease {
  ref: LeaseRef;
  /** When the lease runs out (epoch ms): then any process may take the item again. */
  until: number;
  /**
   * Set on a lease held ahead and not started (its `until` is the item's own time): the
   * version it was written with, opaque. `LaneStore.start` moves it to a working lease on that
   * version, so a holder that comes too late to its item finds it taken and leaves it.
   */
  ahead?: string;
}

/** An item as listed, to be taken with `LaneStore.take`. */
export interface ListedItem<V> extends LaneItem<V> {
  /** The lease that ran out, for an item listed by `listExpired`; absent for a waiting one. */
  lease?: Lease;
  /** Opaque: `take` takes the item only if it is still as listed. */
  version: string;
}

export interface LaneStore {
  /** Queues an item, waiting for its time (replacing one with the same time and id). */
  add<V>(lane: LaneName, item: LaneItem<V>): Promise<void>;
  /** Waiting items due at or before `now`, earliest first, at most `limit` (none for 0). */
  listDue<V>(lane: LaneName, now: number, limit: number): Promise<ListedItem<V>[]>;
  /** Leased items whose lease ran out at or before `now`, soonest run out first. */
  listExpired<V>(lane: LaneName, now: number, limit: number): Promise<ListedItem<V>[]>;
  /** Waiting items due at or before `now`, counted up to `limit` (for `/metrics`). */
  countDue(lane: LaneName, now: number, limit: number): Promise<number>;
  /**
   * Leases listed items, each until its `until`, with compare-and-set: in the order given, the
   * lease of each item still as listed, null for one another process took or changed first.
   * Items taken together share a commit when none of them lost its race.
   */
  take<V>(
    lane: LaneName,
    items: readonly { item: ListedItem<V>; until: number }[],
  ): Promise<(Lease | null)[]>;
  /**
   * Moves a lease held ahead (`Lease.ahead`) to a working lease until `until`, holding
   * `item.value` (which must be the stored value); null when the held lease is gone or was
   * written again since (withdrawn, or taken over by another process). Starts that arrive
   * together share a commit.
   */
  start<V>(lane: LaneName, item: LaneItem<V>, held: Lease, until: number): Promise<Lease | null>;
  /**
   * Hands leases back: each item still under its lease waits again at its time, with its
   * stored value (not what the holder kept in memory beside it). One gone meanwhile is left.
   */
  handBack(
    lane: LaneName,
    held: readonly { item: LaneItem<unknown>; lease: Lease }[],
  ): Promise<void>;
  /** Ends a lease without a write of its own (the item is done, superseded or gone). */
  release(lease: LeaseRef): Promise<void>;
}
