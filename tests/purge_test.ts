import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import { createSystem } from "../system.ts";
import { okProbe } from "./helpers.ts";

Deno.test("deleting a job queues the removal of its runs, which the queue listener carries out", async () => {
  const kv = await Deno.openKv(":memory:");
  const config = parseConfig({ HIBIKI_KV_PATH: ":memory:" });
  const system = createSystem(kv, config, {
    queueWakeups: false,
    probe: () => Promise.resolve(okProbe()),
  });
  const listening = kv.listenQueue((message) => system.onQueueMessage(message));
  const job = await system.parts.jobs.create("default", {
    name: "short-lived",
    url: "https://example.com/",
    schedule: "0 0 1 1 *",
  });
  await system.parts.jobs.runNow("default", job.id);
  await system.lanes.fires.drain();
  const runs = () => Array.fromAsync(kv.list({ prefix: kvKeys.runsOf("default", job.id) }));
  for (let i = 0; i < 100 && (await runs()).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await runs()).length, 1);

  await system.parts.jobs.delete("default", job.id);
  for (let i = 0; i < 200 && (await runs()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await runs()).length, 0, "the runs are gone without a restart");
  assert.equal((await Array.fromAsync(kv.list({ prefix: kvKeys.purges() }))).length, 0);
  await system.stop();
  kv.close();
  await listening;
});
