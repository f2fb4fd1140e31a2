import assert from "node:assert/strict";
import { TokenBuckets } from "./rate_limit.ts";

Deno.test("TokenBuckets lets a burst through, then one per refill, and says how long to wait", () => {
  let now = 1_000_000;
  const buckets = new TokenBuckets({ burst: 3, perSecond: 2 }, () => now);
  assert.deepEqual([1, 2, 3].map(() => buckets.take("a")), [0, 0, 0]);
  assert.equal(buckets.take("a"), 500);
  assert.equal(buckets.take("b"), 0, "each key has its own bucket");
  now += 499;
  assert.equal(buckets.take("a"), 1);
  now += 1;
  assert.equal(buckets.take("a"), 0);
  now += 60_000;
  assert.deepEqual([1, 2, 3, 4].map(() => buckets.take("a")), [0, 0, 0, 500], "refills to burst");
});
