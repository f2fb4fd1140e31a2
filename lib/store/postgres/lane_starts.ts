/**
 * Starts of held lane items in Postgres (`LaneStore.start`), grouped: starts that arrive while
 * a statement is in flight share the next one. A burst's held fires all start in the same
 * millisecond (100 ms before their second, lib/lanes/dispatcher.ts). With one `update` each,
 * thousands of queries built and queued at once kept a process busy past the second (the
 * burst bench with two processes on Postgres: the first fire marked 0.4 s after its second,
 * the last 1.3 s after), and the other process, finding those held leases run out, raced the
 * holder for them. Grouped, 5,000 starts take one tenth of a second or less.
 *
 * Each start is a compare-and-set on the version the claim wrote (`Lease.ahead`). A row another
 * transaction holds (taking it over, withdrawing it, handing it back) is skipped, not waited
 * for: each of those ends the held lease, so the start has lost anyway, and waiting with a
 * group's other rows locked could deadlock against that transaction's own locks.
 */
import type { LaneItem, LaneName, Lease } from "../lanes.ts";
import type { Sql } from "./connect.ts";
import { asJson, itemKey, leaseRef } from "./util.ts";

/** Starts in one statement. */
const GROUP_MAX = 500;
/** Statements in flight at once: one running while the next one fills. */
const IN_FLIGHT = 2;

interface Pending {
  row: {
    lane: LaneName;
    held_until: number;
    at: number;
    item_id: string;
    ahead: number;
    until: number;
    value: unknown;
  };
  lease: Lease;
  done: (lease: Lease | null) => void;
  fail: (error: unknown) => void;
}

export class LaneStarts {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(private readonly sql: Sql) {}

  /** Moves a held lease to a working one until `until`; null when the held lease is gone. */
  start<V>(lane: LaneName, item: LaneItem<V>, held: Lease, until: number): Promise<Lease | null> {
    if (held.ahead === undefined) {
      return Promise.reject(
        new TypeError("Cannot start a held item: its lease was not held ahead"),
      );
    }
    const row = {
      lane,
      held_until: held.until,
      at: item.at,
      item_id: itemKey(item.id),
      ahead: Number(held.ahead),
      until,
      value: item.value,
    };
    const lease = { ref: leaseRef(lane, until, item.at, item.id), until };
    return new Promise((done, fail) => {
      this.queue.push({ row, lease, done, fail });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length > 0) {
      const group = this.queue.splice(0, GROUP_MAX);
      this.inFlight++;
      this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(group: Pending[]): Promise<void> {
    try {
      const rows = group.map((pending, n) => ({ n, ...pending.row }));
      const started = await this.sql`with x as (
          select * from json_to_recordset(${asJson(this.sql, rows)}) as x(n int, lane text,
            held_until bigint, at bigint, item_id text, ahead bigint, until bigint, value json)),
        locked as (
          select i.lane, i.until, i.at, i.item_id, x.n, x.until as new_until, x.value
          from public.hibiki_lane_items i
          join x on i.lane = x.lane and i.until = x.held_until and i.at = x.at
            and i.item_id = x.item_id and i.version = x.ahead
          for update of i skip locked)
        update public.hibiki_lane_items i
        set until = locked.new_until, value = locked.value,
          version = nextval('public.hibiki_version')
        from locked
        where i.lane = locked.lane and i.until = locked.until and i.at = locked.at
          and i.item_id = locked.item_id
        returning locked.n`;
      const won = new Set(started.map((r) => r.n as number));
      group.forEach((pending, n) => pending.done(won.has(n) ? pending.lease : null));
    } catch (error) {
      for (const pending of group) pending.fail(error);
    }
  }
}
