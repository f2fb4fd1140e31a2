/**
 * The durable lanes in Postgres (`LaneStore`): one row per item in `hibiki_lane_items`,
 * waiting (`until` = 0) or leased until `until`, with a version changed on every write. A
 * take or start is an `update … where version = <as listed>`: of two processes taking the
 * same item, the second finds the version changed (Postgres re-reads the row it waited for)
 * and gets nothing. Starts of held items that arrive together share one statement
 * (lane_starts.ts).
 */
import type { LaneItem, LaneName, LaneStore, Lease, LeaseRef, ListedItem } from "../lanes.ts";
import type { Sql } from "./connect.ts";
import { LaneStarts } from "./lane_starts.ts";
import { asJson, itemKey, leaseRef, nextVersion, releaseLease } from "./util.ts";

type Row = Record<string, unknown>;

export class PgLaneStore implements LaneStore {
  /** Starts of held items: those arriving together share a statement. */
  private readonly starts: LaneStarts;

  constructor(private readonly sql: Sql) {
    this.starts = new LaneStarts(sql);
  }

  async add<V>(lane: LaneName, item: LaneItem<V>): Promise<void> {
    await this.sql`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
      values (${lane}, 0, ${item.at}, ${itemKey(item.id)}, ${asJson(this.sql, item.value)},
        nextval('public.hibiki_version'))
      on conflict (lane, until, at, item_id) do update set value = excluded.value,
        version = excluded.version`;
  }

  async listDue<V>(lane: LaneName, now: number, limit: number): Promise<ListedItem<V>[]> {
    if (limit <= 0) return [];
    const rows = await this.sql`select at, item_id, value, version
      from public.hibiki_lane_items
      where lane = ${lane} and until = 0 and at <= ${now}
      order by at, item_id limit ${limit}`;
    return rows.map((r) => listed<V>(r));
  }

  async listExpired<V>(lane: LaneName, now: number, limit: number): Promise<ListedItem<V>[]> {
    if (limit <= 0) return [];
    const rows = await this.sql`select until, at, item_id, value, version
      from public.hibiki_lane_items
      where lane = ${lane} and until > 0 and until <= ${now}
      order by until, at, item_id limit ${limit}`;
    return rows.map((r) => ({
      ...listed<V>(r),
      lease: {
        ref: leaseRef(lane, r.until as number, r.at as number, JSON.parse(r.item_id as string)),
        until: r.until as number,
      },
    }));
  }

  async countDue(lane: LaneName, now: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const [row] = await this.sql`select count(*)::bigint as n from (
      select 1 from public.hibiki_lane_items
      where lane = ${lane} and until = 0 and at <= ${now} limit ${limit}) due`;
    return row.n as number;
  }

  async take<V>(
    lane: LaneName,
    items: readonly { item: ListedItem<V>; until: number }[],
  ): Promise<(Lease | null)[]> {
    if (items.length === 0) return [];
    const rows = items.map(({ item, until }, n) => ({
      n,
      from_until: item.lease ? item.lease.until : 0,
      at: item.at,
      item_id: itemKey(item.id),
      version: Number(item.version),
      until,
    }));
    // One statement, one commit: each item is taken only if it is still as listed. Rows
    // another transaction holds are skipped (it is taking or ending them), so two takes of
    // overlapping listings never wait on each other.
    const taken = await this.sql`with t as (
        select * from jsonb_to_recordset(${this.sql.json(rows as never)}) as x(
          n int, from_until bigint, at bigint, item_id text, version bigint, until bigint)),
      locked as (
        select i.until, i.at, i.item_id, t.n, t.until as new_until
        from public.hibiki_lane_items i
        join t on i.until = t.from_until and i.at = t.at and i.item_id = t.item_id
          and i.version = t.version
        where i.lane = ${lane}
        for update of i skip locked)
      update public.hibiki_lane_items i
      set until = locked.new_until, version = nextval('public.hibiki_version')
      from locked
      where i.lane = ${lane} and i.until = locked.until and i.at = locked.at
        and i.item_id = locked.item_id
      returning locked.n`;
    const won = new Set(taken.map((r) => r.n as number));
    return items.map(({ item, until }, n) =>
      won.has(n) ? { ref: leaseRef(lane, until, item.at, item.id), until } : null
    );
  }

  start<V>(lane: LaneName, item: LaneItem<V>, held: Lease, until: number): Promise<Lease | null> {
    return this.starts.start(lane, item, held, until);
  }

  async handBack(
    lane: LaneName,
    held: readonly { item: LaneItem<unknown>; lease: Lease }[],
  ): Promise<void> {
    if (held.length === 0) return;
    await this.sql.begin(async (tx) => {
      const version = await nextVersion(tx);
      for (const { item, lease } of held) {
        // The stored value: what the holder keeps in memory beside it is not for others.
        await tx`with moved as (
            delete from public.hibiki_lane_items
            where lane = ${lane} and until = ${lease.until} and at = ${item.at}
              and item_id = ${itemKey(item.id)}
            returning value)
          insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
          select ${lane}, 0, ${item.at}, ${itemKey(item.id)}, value, ${version} from moved
          on conflict (lane, until, at, item_id) do update set value = excluded.value,
            version = excluded.version`;
      }
    });
  }

  async release(lease: LeaseRef): Promise<void> {
    await releaseLease(this.sql, lease);
  }
}

function listed<V>(row: Row): ListedItem<V> {
  return {
    at: row.at as number,
    id: JSON.parse(row.item_id as string),
    value: row.value as V,
    version: String(row.version),
  };
}
