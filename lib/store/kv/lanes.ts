/**
 * The durable lanes in Deno KV (`LaneStore`). An item waits under `[due, at, ...id]` and is
 * leased by moving it, with compare-and-set on the listed versionstamp, to
 * `[leased, until, at, ...id]` (`kvKeys.laneItem`, `laneLease`); a range read of either prefix up to now
 * lists what is due or whose lease ran out. A lease held ahead is started by the same move,
 * checked against the versionstamp of the commit that claimed it.
 */
import type { LaneItem, LaneName, LaneStore, Lease, LeaseRef, ListedItem } from "../lanes.ts";
import { getMany } from "./get_many.ts";
import { GroupCommitter } from "./group_commit.ts";
import { kvKeys } from "./keys.ts";

/**
 * Items moved per atomic operation: a check and two mutations each, well inside Deno KV's 100
 * checks and 1000 mutations.
 */
export const LEASE_GROUP = 45;

/**
 * How long a start may wait for others to share its commit. Held items are started in 100 ms
 * slots at least 100 ms ahead of their time (lib/lanes/dispatcher.ts), all at once; without
 * it, the first two of each slot committed alone (an idle committer commits at once), a tenth
 * of a commit a check with monitors spread over the second.
 */
const START_LINGER_MS = 10;

export class KvLaneStore implements LaneStore {
  /** Starts of held items: items starting together share a commit. */
  private readonly starts: GroupCommitter;
  /** Starts being committed, by their held lease's key as text. */
  private readonly starting = new Map<string, Promise<boolean>>();

  constructor(private readonly kv: Deno.Kv) {
    this.starts = new GroupCommitter(kv, LEASE_GROUP);
  }

  async add<V>(lane: LaneName, item: LaneItem<V>): Promise<void> {
    await this.kv.set(kvKeys.laneItem(lane, item.at, item.id), item.value);
  }

  async listDue<V>(lane: LaneName, now: number, limit: number): Promise<ListedItem<V>[]> {
    const prefix = kvKeys.laneDue(lane);
    return (await this.listBefore<V>(prefix, now + 1, limit)).map((entry) => ({
      at: entry.key[prefix.length] as number,
      id: entry.key.slice(prefix.length + 1) as (string | number)[],
      value: entry.value,
      version: entry.versionstamp,
    }));
  }

  async listExpired<V>(lane: LaneName, now: number, limit: number): Promise<ListedItem<V>[]> {
    const prefix = kvKeys.laneLeases(lane);
    return (await this.listBefore<V>(prefix, now + 1, limit)).map((entry) => ({
      at: entry.key[prefix.length + 1] as number,
      id: entry.key.slice(prefix.length + 2) as (string | number)[],
      value: entry.value,
      version: entry.versionstamp,
      lease: { ref: entry.key, until: entry.key[prefix.length] as number },
    }));
  }

  async countDue(lane: LaneName, now: number, limit: number): Promise<number> {
    const prefix = kvKeys.laneDue(lane);
    let n = 0;
    for await (const _ of this.kv.list({ start: prefix, end: [...prefix, now + 1] }, { limit })) {
      n++;
    }
    return n;
  }

  async take<V>(
    lane: LaneName,
    items: readonly { item: ListedItem<V>; until: number }[],
  ): Promise<(Lease | null)[]> {
    const moves = items.map(({ item, until }) => ({
      from: {
        key: item.lease ? item.lease.ref as Deno.KvKey : kvKeys.laneItem(lane, item.at, item.id),
        versionstamp: item.version,
      },
      lease: { ref: kvKeys.laneLease(lane, until, item.at, item.id), until },
      value: item.value,
    }));
    const out: (Lease | null)[] = [];
    for (let i = 0; i < moves.length; i += LEASE_GROUP) {
      const group = moves.slice(i, i + LEASE_GROUP);
      const op = this.kv.atomic();
      for (const m of group) op.check(m.from).delete(m.from.key).set(m.lease.ref, m.value);
      if ((await op.commit()).ok) {
        out.push(...group.map((m) => m.lease));
        continue;
      }
      // Another process leased some of these: take the rest one by one.
      for (const m of group) {
        const one = await this.kv.atomic().check(m.from).delete(m.from.key)
          .set(m.lease.ref, m.value).commit();
        out.push(one.ok ? m.lease : null);
      }
    }
    return out;
  }

  async start<V>(
    lane: LaneName,
    item: LaneItem<V>,
    held: Lease,
    until: number,
  ): Promise<Lease | null> {
    if (held.ahead === undefined) {
      throw new TypeError("Cannot start a held item: its lease was not held ahead");
    }
    const from = { key: held.ref as Deno.KvKey, versionstamp: held.ahead };
    const ref = kvKeys.laneLease(lane, until, item.at, item.id);
    // Two starts of one lease in one shared commit would both pass its check: the second waits
    // for the first, and then fails it.
    const text = JSON.stringify(from.key);
    for (let earlier = this.starting.get(text); earlier; earlier = this.starting.get(text)) {
      await earlier.catch(() => {});
    }
    const moving = this.starts.commit(
      (op) => op.check(from).delete(from.key).set(ref, item.value),
      { lingerMs: START_LINGER_MS },
    );
    this.starting.set(text, moving);
    try {
      return (await moving) ? { ref, until } : null;
    } finally {
      this.starting.delete(text);
    }
  }

  async handBack(
    lane: LaneName,
    held: readonly { item: LaneItem<unknown>; lease: Lease }[],
  ): Promise<void> {
    for (let i = 0; i < held.length; i += LEASE_GROUP) {
      const group = held.slice(i, i + LEASE_GROUP);
      const entries = await getMany(this.kv, group.map((h) => h.lease.ref as Deno.KvKey));
      const op = this.kv.atomic();
      group.forEach((h, j) => {
        const entry = entries[j];
        if (entry.versionstamp === null) return;
        // The stored value: what the process keeps in memory beside it is not for others.
        op.check(entry).delete(entry.key)
          .set(kvKeys.laneItem(lane, h.item.at, h.item.id), entry.value);
      });
      await op.commit();
    }
  }

  async release(lease: LeaseRef): Promise<void> {
    await this.kv.delete(lease as Deno.KvKey);
  }

  private async listBefore<T>(
    prefix: Deno.KvKey,
    before: number,
    limit: number,
  ): Promise<Deno.KvEntry<T>[]> {
    if (limit <= 0) return [];
    const out: Deno.KvEntry<T>[] = [];
    const iter = this.kv.list<T>({ start: prefix, end: [...prefix, before] }, { limit });
    for await (const entry of iter) out.push(entry);
    return out;
  }
}
