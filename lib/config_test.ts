import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";
import { decodeMasterKey, loadMasterKey } from "./master_key.ts";

Deno.test("parseConfig() applies the documented defaults", () => {
  const config = parseConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.kvPath, "./data/hibiki.kv");
  assert.equal(config.rootApiKey, null);
  assert.equal(config.allowPrivateNetworks, false);
  assert.equal(config.catchUpDeadlineMs, 300_000);
  assert.deepEqual(config.runRetention, { count: 1000, maxAgeMs: 30 * 86_400_000 });
});

Deno.test("parseConfig() names every bad variable in one message", () => {
  assert.throws(
    () =>
      parseConfig({
        PORT: "eighty",
        HIBIKI_ALLOW_PRIVATE_NETWORKS: "maybe",
        HIBIKI_API_KEY: "short",
      }),
    (error: Error) =>
      error instanceof ConfigError && /PORT/.test(error.message) &&
      /HIBIKI_ALLOW_PRIVATE_NETWORKS/.test(error.message) && /HIBIKI_API_KEY/.test(error.message),
  );
});

Deno.test("parseConfig() reads flags and treats empty variables as unset", () => {
  const config = parseConfig({ HIBIKI_ALLOW_PRIVATE_NETWORKS: "true", PORT: "" });
  assert.equal(config.allowPrivateNetworks, true);
  assert.equal(config.port, 8000);
});

Deno.test("decodeMasterKey() accepts 32 bytes as base64 or hex and refuses anything else", () => {
  assert.equal(decodeMasterKey("ab".repeat(32)).length, 32);
  assert.equal(decodeMasterKey(btoa("x".repeat(32))).length, 32);
  assert.throws(() => decodeMasterKey("too-short"), ConfigError);
});

Deno.test("loadMasterKey() generates a development key once and reuses it", async () => {
  const dir = await Deno.makeTempDir();
  const config = parseConfig({ HIBIKI_KV_PATH: `${dir}/hibiki.kv` });
  const first = await loadMasterKey(config);
  const second = await loadMasterKey(config);
  assert.deepEqual(first.key, second.key);
  assert.match(first.warning ?? "", /generated/);
  assert.equal((await Deno.stat(`${dir}/master.key`)).mode! & 0o777, 0o600);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMasterKey() refuses to start in production without HIBIKI_MASTER_KEY", async () => {
  const config = parseConfig({ HIBIKI_ENV: "production", HIBIKI_KV_PATH: ":memory:" });
  await assert.rejects(() => loadMasterKey(config), ConfigError);
});
