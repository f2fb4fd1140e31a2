import assert from "node:assert/strict";
import { GroupCommitter } from "./group_commit.ts";

Deno.test("writes sharing a commit fail alone: a conflict or a too-large write spares the rest", async () => {
  const kv = await Deno.openKv(":memory:");
  const committer = new GroupCommitter(kv);
  await kv.set(["taken"], 1);
  const big = "x".repeat(60_000);
  const small = (i: number) => committer.commit((op) => op.set(["small", i], i));
  const large = (i: number) => committer.commit((op) => op.set(["big", i], big));
  // Started together, they share commits after the first: 15 values of 60 KB together pass
  // Deno KV's 800 KiB limit for one operation (each alone is well within its 64 KiB), and
  // one write's check does not hold.
  const results = await Promise.allSettled([
    small(0),
    small(1),
    ...Array.from({ length: 15 }, (_, i) => large(i)),
    committer.commit((op) => op.check({ key: ["taken"], versionstamp: null }).set(["x"], 1)),
    small(2),
  ]);
  assert.deepEqual(
    results.map((r) => r.status === "fulfilled" ? r.value : "threw"),
    [true, true, ...Array(15).fill(true), false, true],
  );
  for (const i of [0, 1, 2]) assert.notEqual((await kv.get(["small", i])).versionstamp, null);
  for (let i = 0; i < 15; i++) assert.notEqual((await kv.get(["big", i])).versionstamp, null);
  assert.equal((await kv.get(["x"])).versionstamp, null);
  kv.close();
});

Deno.test("writes that may wait share one commit; one that may not commits them at once", async () => {
  const kv = await Deno.openKv(":memory:");
  const committer = new GroupCommitter(kv);
  const versions = async (n: number, prefix: string) =>
    new Set(
      (await kv.getMany(Array.from({ length: n }, (_, i) => [prefix, i]))).map((e) =>
        e.versionstamp
      ),
    );
  // Arriving a moment apart, as runs of checks spread over the second finish.
  const waiting: Promise<boolean>[] = [];
  for (let i = 0; i < 5; i++) {
    waiting.push(committer.commit((op) => op.set(["w", i], i), { lingerMs: 60_000 }));
    await Promise.resolve();
  }
  // One nobody lets wait: it commits now, and takes the waiting ones along.
  assert.equal(await committer.commit((op) => op.set(["w", 5], 5)), true);
  assert.deepEqual(await Promise.all(waiting), [true, true, true, true, true]);
  assert.equal((await versions(6, "w")).size, 1);
  // Alone, a write that may wait is committed once its wait is over.
  assert.equal(await committer.commit((op) => op.set(["late", 0], 0), { lingerMs: 5 }), true);
  assert.notEqual((await kv.get(["late", 0])).versionstamp, null);
  kv.close();
});

Deno.test("a shared commit takes writes up to its capacity by their weight (checks), not their count", async () => {
  const kv = await Deno.openKv(":memory:");
  const committer = new GroupCommitter(kv, 100);
  const writes: Promise<boolean>[] = [];
  for (let i = 0; i < 3; i++) {
    writes.push(committer.commit((op) => op.set(["w", i], i), { lingerMs: 60_000, weight: 40 }));
  }
  writes.push(committer.commit((op) => op.set(["w", 3], 3), { weight: 40 }));
  assert.deepEqual(await Promise.all(writes), [true, true, true, true]);
  const stamps = (await kv.getMany([["w", 0], ["w", 1], ["w", 2], ["w", 3]])).map((e) =>
    e.versionstamp
  );
  assert.equal(stamps[0], stamps[1]);
  assert.equal(stamps[2], stamps[3]);
  assert.notEqual(stamps[1], stamps[2]);
  kv.close();
});
