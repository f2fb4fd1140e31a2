import assert from "node:assert/strict";
import { BoundedCache, DEFAULT_CACHE_LIMIT } from "./bounded_cache.ts";

Deno.test("BoundedCache keeps at most its limit, dropping the least recently used", () => {
  const cache = new BoundedCache<string, number>(3);
  cache.set("a", 1);
  cache.set("b", 2);
  cache.set("c", 3);
  assert.equal(cache.get("a"), 1); // a is now the most recently used
  cache.set("d", 4); // drops b
  assert.equal(cache.size, 3);
  assert.equal(cache.get("b"), undefined);
  assert.deepEqual([cache.get("a"), cache.get("c"), cache.get("d")], [1, 3, 4]);
});

Deno.test("BoundedCache replaces a value without growing, and forgets a deleted key", () => {
  const cache = new BoundedCache<string, number>(2);
  assert.equal(cache.set("a", 1), 1);
  cache.set("b", 2);
  cache.set("a", 10); // a moves to the back
  cache.set("c", 3); // drops b, not a
  assert.equal(cache.get("a"), 10);
  assert.equal(cache.get("b"), undefined);
  assert.ok(cache.delete("a"));
  assert.ok(!cache.delete("a"));
  assert.equal(cache.get("a"), undefined);
  assert.equal(cache.size, 1);
});

Deno.test("BoundedCache keeps the hot entries when many cold ones pass through", () => {
  const cache = new BoundedCache<string, string>();
  assert.equal(cache.limit, DEFAULT_CACHE_LIMIT);
  cache.set("hot", "kept");
  for (let i = 0; i < 3 * DEFAULT_CACHE_LIMIT; i++) {
    cache.set(`cold-${i}`, "x");
    if (i % 1000 === 0) assert.equal(cache.get("hot"), "kept");
  }
  assert.equal(cache.size, DEFAULT_CACHE_LIMIT);
  assert.equal(cache.get("hot"), "kept");
});

Deno.test("BoundedCache refuses a limit below 1", () => {
  assert.throws(() => new BoundedCache(0), /Cannot make a cache: limit 0 is below 1/);
});
