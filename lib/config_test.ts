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

Deno.test("parseConfig() defaults the alert services to the real ones and links to localhost", () => {
  const config = parseConfig({ PORT: "8080" });
  assert.equal(config.publicUrl, "http://localhost:8080");
  assert.deepEqual(config.channels, {
    telegramApiUrl: "https://api.telegram.org",
    pagerDutyApiUrl: "https://events.pagerduty.com",
  });
});

Deno.test("parseConfig() reads the public URL and alert service URLs without a trailing slash", () => {
  const config = parseConfig({
    HIBIKI_PUBLIC_URL: "https://cron.example.com/",
    HIBIKI_TELEGRAM_API_URL: "http://127.0.0.1:9001/",
    HIBIKI_PAGERDUTY_API_URL: "http://127.0.0.1:9002",
  });
  assert.equal(config.publicUrl, "https://cron.example.com");
  assert.equal(config.channels.telegramApiUrl, "http://127.0.0.1:9001");
  assert.equal(config.channels.pagerDutyApiUrl, "http://127.0.0.1:9002");
});

Deno.test("parseConfig() refuses a public URL or service URL that is not plain http(s)", () => {
  for (
    const env of [
      { HIBIKI_PUBLIC_URL: "cron.example.com" },
      { HIBIKI_PUBLIC_URL: "ftp://cron.example.com" },
      { HIBIKI_PUBLIC_URL: "https://cron.example.com/?x=1" },
      { HIBIKI_TELEGRAM_API_URL: "api.telegram.org" },
      { HIBIKI_PAGERDUTY_API_URL: "https://user:pw@events.pagerduty.com" },
    ]
  ) {
    const name = Object.keys(env)[0];
    assert.throws(
      () => parseConfig(env),
      (error: Error) => error instanceof ConfigError && error.message.includes(name),
      name,
    );
  }
});

Deno.test("parseConfig() reads DATABASE_URL strictly and turns prepared statements and LISTEN off for a pooler", () => {
  assert.equal(parseConfig({}).database, null);
  const direct = "postgresql://postgres:pw@db.abcd.supabase.co:5432/postgres";
  assert.deepEqual(parseConfig({ DATABASE_URL: direct }).database, {
    url: direct,
    prepare: true,
    listen: true,
  });
  const pooler =
    "postgresql://postgres.abcd:pw@aws-0-ap-northeast-1.pooler.supabase.com:6543/postgres";
  assert.deepEqual(parseConfig({ DATABASE_URL: pooler }).database, {
    url: pooler,
    prepare: false,
    listen: false,
  });
  assert.equal(
    parseConfig({ DATABASE_URL: pooler, HIBIKI_DATABASE_PREPARE: "1" }).database?.prepare,
    true,
  );
  for (const bad of ["mysql://h/db", "postgres://h", "postgres://h/", "not a url"]) {
    assert.throws(() => parseConfig({ DATABASE_URL: bad }), /DATABASE_URL must be a postgres/);
  }
});
