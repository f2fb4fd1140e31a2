/** The Store contract against the Deno KV store on a real KV file; its own upgrades. */
import assert from "node:assert/strict";
import { storeContract } from "../contract_test_suite.ts";
import type { JobState } from "../types.ts";
import { kvKeys } from "./keys.ts";
import { KvStore } from "./kv_store.ts";
import { createKvStores } from "./mod.ts";
import { openKv } from "./open_kv.ts";

storeContract("Deno KV store", async ({ clock, retention }) => {
  const dir = await Deno.makeTempDir();
  const kv = await openKv(`${dir}/hibiki.kv`);
  return {
    ...createKvStores(kv, { clock, retention }),
    async [Symbol.asyncDispose]() {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

Deno.test("a store from before the state index is re-indexed once by its alert states", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = new KvStore(kv);
  const stamp = new Date(0).toISOString();
  const job = (id: string, enabled: boolean) => ({
    id,
    userId: "default",
    name: id,
    url: "http://127.0.0.1:9/",
    method: "GET",
    headers: null,
    body: null,
    schedule: "* * * * *",
    timezone: "UTC",
    enabled,
    timeoutMs: 5000,
    expect: null,
    createdAt: stamp,
    updatedAt: stamp,
  });
  // As a store before issue 13 left them: jobs, one alert state, the last runs' up/down index.
  await kv.atomic()
    .set(kvKeys.job("default", "a"), job("a", true))
    .set(kvKeys.job("default", "b"), job("b", true))
    .set(kvKeys.job("default", "c"), job("c", false))
    .set(kvKeys.alertState("default", "a"), { state: "down" })
    .set(kvKeys.jobInState("default", "up", "a"), null)
    .set(kvKeys.jobInState("default", "paused", "c"), null)
    .commit();
  await store.purgeDeletedJobs();
  assert.deepEqual(await store.countJobStates("default"), {
    pending: 1,
    up: 0,
    degraded: 0,
    down: 1,
    paused: 1,
    maintenance: 0,
  });
  const ids = async (state: JobState) =>
    (await store.searchJobs("default", { state, limit: 10 })).values.map((v) => v.job.id);
  assert.deepEqual(await ids("up"), []);
  assert.deepEqual(await ids("down"), ["a"]);
  // Once: a later start leaves the index to the writers.
  await kv.set(kvKeys.jobInState("default", "up", "b"), null);
  await store.purgeDeletedJobs();
  assert.deepEqual(await ids("up"), ["b"]);
});
