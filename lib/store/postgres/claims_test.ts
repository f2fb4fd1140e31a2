/**
 * Claims and starts on Postgres leave rows another transaction holds to it instead of
 * waiting: two processes working through the same burst split it rather than queue behind
 * each other (the contract's outcomes are in lib/store/contract_test_suite.ts).
 */
import assert from "node:assert/strict";
import { freshDatabase } from "../../../tests/postgres_database.ts";
import { putJob } from "../../scheduler/test_support.ts";
import type { FireValue } from "../types.ts";
import type { DueJob, FireClaim } from "../claims.ts";
import type { Sql } from "./connect.ts";
import { createPostgresStores } from "./mod.ts";

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);
const FIRE: FireValue = { trigger: "AUTO", timeoutMs: 5000 };

function claimOf(due: DueJob): FireClaim {
  return { due, fires: [due.at], fire: FIRE, missed: [], nextAt: due.at + 1000 };
}

/** Runs `work` while another transaction holds the rows `lock` selects `for update`. */
async function whileLocked<T>(sql: Sql, lock: string, work: () => Promise<T>): Promise<T> {
  let result!: T;
  await sql.begin(async (tx) => {
    await tx.unsafe(`${lock} for update`);
    // A wait on the lock would hang here until the test times out.
    result = await work();
  });
  return result;
}

Deno.test("a claim on Postgres leaves an entry another process is claiming, without waiting, and claims the rest", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  const jobs = [];
  for (let i = 0; i < 3; i++) {
    jobs.push(await putJob(stores.records, T0, { schedule: "* * * * * *" }));
  }
  const listed = await stores.claims.listDue(T0 + 90_000, 10);
  const busy = listed[1].jobId;
  const leases = await whileLocked(
    db.sql,
    `select 1 from public.hibiki_due where job_id = '${busy}'`,
    () => stores.claims.claim(listed.map(claimOf), [0]),
  );
  assert.deepEqual(leases.map((l) => l !== null), [true, false, true]);
  // Left as it was: still due, and claimed by whoever comes next.
  const [still] = await stores.claims.listDue(T0 + 90_000, 10);
  assert.deepEqual(still, listed[1]);
  assert.notEqual((await stores.claims.claim([claimOf(still)], []))[0], null);
  const held = await stores.lanes.listExpired("fire", T0 + 1000, 10);
  assert.deepEqual(held.map((i) => i.id[1]).sort(), jobs.map((j) => j.id).sort());
});

Deno.test("held fires started together on Postgres each start once, and one another transaction holds is skipped without waiting", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  for (let i = 0; i < 40; i++) await putJob(stores.records, T0, { schedule: "* * * * * *" });
  const listed = await stores.claims.listDue(T0 + 90_000, 100);
  const leases = (await stores.claims.claim(listed.map(claimOf), [])).map((l) => l![0]);
  const items = listed.map((due) => ({
    at: due.at,
    id: [due.userId, due.jobId, "local"],
    value: FIRE,
  }));
  const busy = JSON.stringify(items[7].id);
  const started = await whileLocked(
    db.sql,
    `select 1 from public.hibiki_lane_items where item_id = '${busy}'`,
    // Every item twice at once: one of the two starts it.
    () =>
      Promise.all(
        items.flatMap((item, i) => [
          stores.lanes.start("fire", item, leases[i], T0 + 16_000),
          stores.lanes.start("fire", item, leases[i], T0 + 17_000),
        ]),
      ),
  );
  const perItem = items.map((_, i) => started.slice(2 * i, 2 * i + 2).filter((l) => l !== null));
  assert.deepEqual(perItem.map((won) => won.length), items.map((_, i) => i === 7 ? 0 : 1));
  // Working leases now, not held ones: none runs out at the fires' own time.
  const ranOut = await stores.lanes.listExpired("fire", T0 + 1000, 100);
  assert.deepEqual(ranOut.map((i) => i.id), [items[7].id]);
  const working = await stores.lanes.listExpired("fire", T0 + 17_000, 100);
  assert.equal(working.length, items.length);
});
