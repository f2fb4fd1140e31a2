/** Small pieces every Postgres store area shares: pages, versions, lease refs, errors. */
import { encodeCursor } from "../cursor.ts";
import type { LaneItemId, LaneName, LeaseRef } from "../lanes.ts";
import type postgres from "postgres";

/** A transaction's handle, or the pool: both run queries. */
export type Tx = postgres.Sql | postgres.TransactionSql;

/**
 * A record for a `json` column, sent as `json` (oid 114). Records are kept as json, not jsonb:
 * jsonb refuses "\u0000", which a binary answer's first bytes, kept as text, may well hold.
 */
export function asJson(tx: Tx, value: unknown): postgres.Parameter {
  return tx.typed(value as never, 114);
}

/**
 * Text for a text column of seed 002's tables, which cannot hold U+0000 at all: it is dropped
 * there (the record itself, kept as json, keeps it).
 */
export function seedText<T extends string | null>(text: T): T {
  return (text === null ? null : text.replaceAll("\u0000", "")) as T;
}

/** The next version of the one sequence every compare-and-set row uses. */
export async function nextVersion(tx: Tx): Promise<number> {
  const [row] = await tx`select nextval('public.hibiki_version') as v`;
  return Number(row.v);
}

/** A lane item's id as its column holds it. */
export function itemKey(id: LaneItemId): string {
  return JSON.stringify(id);
}

/** The lease of a lane item: the row's key while it is leased (`until` > 0). */
export function leaseRef(lane: LaneName, until: number, at: number, id: LaneItemId): LeaseRef {
  return ["pg", lane, until, at, itemKey(id)];
}

/** Ends a lease: deletes the leased row it names. */
export async function releaseLease(tx: Tx, ref: LeaseRef): Promise<void> {
  const [tag, lane, until, at, item] = ref as [string, string, number, number, string];
  if (tag !== "pg") throw new TypeError("Cannot release a lease another store issued");
  await tx`delete from public.hibiki_lane_items
    where lane = ${lane} and until = ${until} and at = ${at} and item_id = ${item}`;
}

/** Ends several leases with one statement. */
export async function releaseLeases(tx: Tx, refs: readonly LeaseRef[]): Promise<void> {
  if (refs.length === 0) return;
  await tx`delete from public.hibiki_lane_items
    where (lane, until, at, item_id) in (${leaseRows(tx, refs)})`;
}

/** The rows leases name, as a query's fragment: (lane, until, at, item_id). */
export function leaseRows(tx: Tx, refs: readonly LeaseRef[]): postgres.Fragment {
  const keys = refs.map((ref) => {
    const [tag, lane, until, at, item] = ref as [string, string, number, number, string];
    if (tag !== "pg") throw new TypeError("Cannot release a lease another store issued");
    return { lane, until, at, item };
  });
  return tx`select * from unnest(${keys.map((k) => k.lane)}::text[],
    ${keys.map((k) => k.until)}::bigint[], ${keys.map((k) => k.at)}::bigint[],
    ${keys.map((k) => k.item)}::text[])`;
}

/** Whether a Postgres error is a unique violation (a row with that key exists). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === "23505";
}

/** The page of `rows` (one more than `limit` fetched) and the cursor after it. */
export function page<R, T>(
  rows: readonly R[],
  limit: number,
  value: (row: R) => T,
  key: (row: R) => (string | number)[],
): { values: T[]; cursor: string | null } {
  const shown = rows.slice(0, limit);
  const more = rows.length > limit && shown.length > 0;
  return {
    values: shown.map(value),
    cursor: more ? encodeCursor(key(shown[shown.length - 1])) : null,
  };
}
