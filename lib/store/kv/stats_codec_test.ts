import assert from "node:assert/strict";
import { serialize } from "node:v8";
import type { HourStats, JobStatsRecord } from "../types.ts";
import { kvKeys } from "./keys.ts";
import { KvJobStatsStore } from "./stats.ts";
import { packStats, unpackStats } from "./stats_codec.ts";

const BUCKETS = 14;

function hour(h: number, n: number, latency: Record<number, number>, late: Record<number, number>) {
  const histogram = (counts: Record<number, number>) =>
    Array.from({ length: BUCKETS }, (_, i) => counts[i] ?? 0);
  return { h, n, ok: n - 1, latency: histogram(latency), late: histogram(late) };
}

/** A day of a monitor every 20 s: 180 runs an hour, latencies in two buckets. */
function dayRecord(): JobStatsRecord {
  const hours: HourStats[] = [];
  for (let i = 0; i < 25; i++) hours.push(hour(493_000 + i, 180, { 0: 170, 1: 10 }, { 0: 180 }));
  return { hours };
}

Deno.test("a statistics record packs and unpacks to the same record", () => {
  const record: JobStatsRecord = {
    hours: [
      hour(493_000, 0, {}, {}),
      hour(493_001, 3, { 0: 1, 13: 2 }, { 5: 3 }),
      // Counts past 32 bits and every bucket set.
      hour(
        493_002,
        2 ** 40,
        Object.fromEntries([...Array(BUCKETS).keys()].map((i) => [i, 2 ** 33 + i])),
        {
          12: 127,
          13: 128,
        },
      ),
    ],
  };
  record.hours[0].ok = 0;
  assert.deepEqual(unpackStats(packStats(record)), record);
  assert.deepEqual(unpackStats(packStats({ hours: [] })), { hours: [] });
});

Deno.test("a day's record packs to a sixth of its V8-serialized size or less", () => {
  const record = dayRecord();
  const packed = packStats(record);
  assert.ok(packed.length * 6 <= serialize(record).length, `${packed.length} bytes`);
  assert.deepEqual(unpackStats(packed), record);
});

Deno.test("a record stored before packing is read as it is and written back packed", async () => {
  const kv = await Deno.openKv(":memory:");
  const record = dayRecord();
  await kv.set(kvKeys.jobStats("u", "job"), record);
  const store = new KvJobStatsStore(kv);
  assert.deepEqual(await store.get("u", ["job", "none"]), [record, null]);
  await store.merge([{ userId: "u", jobId: "job" }], (current) => ({
    hours: [...current!.hours.slice(1), hour(493_025, 1, { 2: 1 }, { 0: 1 })],
  }));
  const stored = (await kv.get(kvKeys.jobStats("u", "job"))).value;
  assert.ok(stored instanceof Uint8Array);
  const [read] = await store.get("u", ["job"]);
  assert.equal(read!.hours.length, 25);
  assert.deepEqual(read!.hours[24], hour(493_025, 1, { 2: 1 }, { 0: 1 }));
  kv.close();
});

Deno.test("a record of an unknown format is refused, not misread", () => {
  assert.throws(() => unpackStats(new Uint8Array([9, 14, 1])), /format 9/);
  assert.throws(() => unpackStats(new Uint8Array([1, 14, 0x80])), /cut short/);
});

Deno.test("a record this version cannot read is shown without statistics and never overwritten", async () => {
  const kv = await Deno.openKv(":memory:");
  const newer = new Uint8Array([2, 14, 1, 2, 3]);
  await kv.set(kvKeys.jobStats("u", "newer"), newer);
  const store = new KvJobStatsStore(kv);
  const logged: unknown[] = [];
  const log = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    assert.deepEqual(await store.get("u", ["newer"]), [null]);
    await store.merge(
      [{ userId: "u", jobId: "newer" }, { userId: "u", jobId: "other" }],
      () => dayRecord(),
    );
  } finally {
    console.error = log;
  }
  assert.deepEqual((await kv.get(kvKeys.jobStats("u", "newer"))).value, newer);
  assert.deepEqual(await store.get("u", ["other"]), [dayRecord()]);
  assert.ok(logged.some((line) => String(line).includes("format 2")), String(logged));
  kv.close();
});
