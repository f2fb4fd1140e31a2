import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { kvKeys, runsOnly } from "../lib/store/kv/keys.ts";
import type { JobView } from "../lib/store/types.ts";
import { createSystem } from "../system.ts";
import { PgWakeups, postgresStores } from "../lib/store/postgres/mod.ts";
import { emptyDatabase } from "./postgres_database.ts";
import { kvStores } from "../lib/store/kv/mod.ts";
import { callApp, expectStatus, okProbe, ROOT_KEY } from "./helpers.ts";

Deno.test("deleting a job queues the removal of its runs, which the queue listener carries out", async () => {
  const kv = await Deno.openKv(":memory:");
  const config = parseConfig({ HIBIKI_KV_PATH: ":memory:", HIBIKI_API_KEY: ROOT_KEY });
  const system = createSystem(kvStores(kv), config, {
    queueWakeups: false,
    probe: () => Promise.resolve(okProbe()),
  });
  const listening = kv.listenQueue((message) => system.onQueueMessage(message));
  const created = await callApp<JobView>(system.app, "POST", "/api/jobs", {
    body: { name: "short-lived", url: "https://example.com/", schedule: "0 0 1 1 *" },
  });
  expectStatus(created, 201);
  const job = created.body.data;
  expectStatus(await callApp(system.app, "POST", `/api/jobs/${job.id}/run`), 202);
  await system.lanes.fires.drain();
  const runs = () => Array.fromAsync(kv.list(runsOnly("default", job.id)));
  for (let i = 0; i < 100 && (await runs()).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await runs()).length, 1);

  expectStatus(await callApp(system.app, "DELETE", `/api/jobs/${job.id}`), 200);
  const tombstones = async () =>
    (await Array.fromAsync(kv.list({ prefix: kvKeys.purges() }))).length;
  // The tombstone goes last, once the runs are gone: waiting for the runs alone raced it.
  for (let i = 0; i < 200 && (await tombstones()) > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await tombstones(), 0, "the purge finished without a restart");
  assert.equal((await runs()).length, 0, "the runs are gone");
  await system.stop();
  kv.close();
  await listening;
});

Deno.test("on Postgres, deleting a job notifies hibiki_chore, and the listening process removes its runs", async () => {
  await using db = await emptyDatabase();
  const config = parseConfig({ HIBIKI_KV_PATH: ":memory:", HIBIKI_API_KEY: ROOT_KEY });
  const wakeups = new PgWakeups(db.sql);
  const system = createSystem(postgresStores(db.sql), config, {
    queueWakeups: false,
    probe: () => Promise.resolve(okProbe()),
    wakeups,
  });
  system.listen();
  for (let i = 0; i < 100 && !wakeups.listening(); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(wakeups.listening(), "listening on hibiki_wake and hibiki_chore");
  const created = await callApp<JobView>(system.app, "POST", "/api/jobs", {
    body: { name: "short-lived", url: "https://example.com/", schedule: "0 0 1 1 *" },
  });
  expectStatus(created, 201);
  const job = created.body.data;
  expectStatus(await callApp(system.app, "POST", `/api/jobs/${job.id}/run`), 202);
  await system.lanes.fires.drain();
  const runs = async () =>
    (await db.sql`select count(*)::int as n from public.hibiki_runs where job_id = ${job.id}`)[0]
      .n as number;
  for (let i = 0; i < 100 && (await runs()) === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await runs(), 1);

  expectStatus(await callApp(system.app, "DELETE", `/api/jobs/${job.id}`), 200);
  const tombstones = async () => (await db.sql`select 1 from public.hibiki_purges`).length;
  // The tombstone goes last, once the job's runs, deliveries and alerts are gone.
  for (let i = 0; i < 200 && (await tombstones()) > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await tombstones(), 0, "the purge finished without a restart or the timer");
  assert.equal(await runs(), 0);
  await system.stop();
  assert.equal(wakeups.listening(), false);
});
