/**
 * What the Postgres inbound store does beyond the contract: remembered delivery ids expire
 * on its clock, expired events are deleted as new ones arrive, and a deleted hook's events go
 * in batches.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../clock.ts";
import { freshDatabase } from "../../../tests/postgres_database.ts";
import type { NewEvent } from "../inbound.ts";
import type { HookRecord, InboundEvent } from "../types.ts";
import { createPostgresStores } from "./mod.ts";

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);
const HOUR = 3_600_000;
const SHA = "b".repeat(64);

const hook: HookRecord = {
  id: `hook_${"0".repeat(32)}`,
  userId: "default",
  name: "hook",
  enabled: true,
  verification: { mode: "none" },
  challenge: false,
  action: { type: "store" },
  relaySecret: null,
  maxBodyBytes: 1024 * 1024,
  createdAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0).toISOString(),
};

function arrival(id: string, deliveryId: string, now: number, keepMs: number): NewEvent {
  const body = new TextEncoder().encode(id);
  const event: InboundEvent = {
    id,
    hookId: hook.id,
    userId: hook.userId,
    receivedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + keepMs).toISOString(),
    deliveryId,
    conflictOf: null,
    contentType: "text/plain",
    headers: {},
    bodySize: body.length,
    body: id,
    bodyTruncated: false,
    bodyChunks: 1,
    verification: { mode: "none", verified: false },
    action: { state: "succeeded", nextAttemptAt: null, attemptsInRound: 0, attempts: [] },
  };
  return { event, body, dueAt: null, now, bodySha256: SHA, seenTtlMs: HOUR };
}

Deno.test("a delivery id is remembered until its time runs out, then stored anew", async () => {
  await using db = await freshDatabase();
  const clock = new ManualClock(T0);
  const { inbound } = createPostgresStores(db.sql, { clock });
  await inbound.createHook(hook);
  assert.equal(await inbound.addEvent(arrival("evt_1", "d-1", T0, 24 * HOUR)), true);
  clock.set(T0 + HOUR - 1);
  assert.deepEqual(await inbound.seen(hook.id, "d-1", SHA), {
    kind: "duplicate",
    eventId: "evt_1",
  });
  assert.equal(await inbound.addEvent(arrival("evt_2", "d-1", T0 + HOUR - 1, 24 * HOUR)), false);
  clock.set(T0 + HOUR);
  assert.deepEqual(await inbound.seen(hook.id, "d-1", SHA), { kind: "new" });
  assert.equal(await inbound.addEvent(arrival("evt_3", "d-1", T0 + HOUR, 24 * HOUR)), true);
  assert.deepEqual(await inbound.seen(hook.id, "d-1", SHA), {
    kind: "duplicate",
    eventId: "evt_3",
  });
  assert.deepEqual(await inbound.counts([hook.id]), [{ received: 2, rejected: 0 }]);
});

Deno.test("expired events and delivery ids are deleted as new events arrive", async () => {
  await using db = await freshDatabase();
  const clock = new ManualClock(T0);
  const { inbound } = createPostgresStores(db.sql, { clock });
  await inbound.createHook(hook);
  await inbound.addEvent(arrival("evt_1", "d-1", T0, HOUR));
  await inbound.addEvent(arrival("evt_2", "d-2", T0, 48 * HOUR));
  // A backlog larger than one batch: every arrival deletes a batch until it is gone.
  await db.sql`insert into public.hibiki_inbound_events
      (hook_id, id, event, body, expires_at, version)
    select ${hook.id}, 'evt_old_' || n, '{}'::jsonb, null, ${T0}, 0
    from generate_series(1, 700) n`;
  const left = async () =>
    (await db.sql`select id from public.hibiki_inbound_events order by id`).map((r) => r.id);
  clock.set(T0 + 2 * HOUR);
  await inbound.addEvent(arrival("evt_3", "d-3", T0 + 2 * HOUR, HOUR));
  assert.equal((await left()).length, 3 + 700 - 500);
  await inbound.addEvent(arrival("evt_4", "d-4", T0 + 2 * HOUR, HOUR));
  assert.deepEqual(await left(), ["evt_2", "evt_3", "evt_4"]);
  const seen = await db.sql`select delivery_id from public.hibiki_inbound_seen
    order by delivery_id`;
  // Delivery ids are remembered for an hour, however long their events are kept.
  assert.deepEqual(seen.map((r) => r.delivery_id), ["d-3", "d-4"]);
  assert.equal(await inbound.getEvent(hook.id, "evt_1"), null);
});

Deno.test("a deleted hook's events go with it, however many", async () => {
  await using db = await freshDatabase();
  const { inbound } = createPostgresStores(db.sql, { clock: new ManualClock(T0) });
  await inbound.createHook(hook);
  await inbound.addEvent(arrival("evt_1", "d-1", T0, HOUR));
  await db.sql`insert into public.hibiki_inbound_events
      (hook_id, id, event, body, expires_at, version)
    select ${hook.id}, 'evt_more_' || n, '{}'::jsonb, null, ${T0 + HOUR}, 0
    from generate_series(1, 1200) n`;
  await inbound.deleteHook("default", hook.id);
  const [events] = await db.sql`select count(*)::int as n from public.hibiki_inbound_events`;
  const [seen] = await db.sql`select count(*)::int as n from public.hibiki_inbound_seen`;
  assert.deepEqual([events.n, seen.n], [0, 0]);
});
