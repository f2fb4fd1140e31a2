import assert from "node:assert/strict";
import { parseWorkerConfig, WorkerConfigError } from "./worker_config.ts";

const SEED_ENV = {
  WORKER_ID: "aws-tyo1a",
  SUPABASE_URL: "https://hibiki.example.com/",
  PINGMON_WORKER_API_KEY: "worker-key-0123456789",
};

Deno.test("parseWorkerConfig() reads the seed's .env and defaults the optional knobs", () => {
  assert.deepEqual(parseWorkerConfig(SEED_ENV), {
    workerId: "aws-tyo1a",
    supabaseUrl: "https://hibiki.example.com",
    functionsUrl: "https://hibiki.example.com/functions/v1",
    apiKey: "worker-key-0123456789",
    anonKey: null,
    dataPath: "./data/worker-aws-tyo1a.kv",
    refreshMs: 60_000,
    flushMs: 5_000,
    retryMaxMs: 60_000,
    allowPrivateNetworks: false,
  });
});

Deno.test("parseWorkerConfig() takes a shorter retry cap, and names the variable when it is bad", () => {
  assert.equal(parseWorkerConfig({ ...SEED_ENV, WORKER_RETRY_MAX_SECONDS: "2" }).retryMaxMs, 2000);
  for (const bad of ["0", "3601", "1.5", "soon"]) {
    assert.throws(
      () => parseWorkerConfig({ ...SEED_ENV, WORKER_RETRY_MAX_SECONDS: bad }),
      (error: Error) =>
        error instanceof WorkerConfigError &&
        /^Cannot start the worker: WORKER_RETRY_MAX_SECONDS /.test(error.message),
    );
  }
});

Deno.test("parseWorkerConfig() takes SUPABASE_ANON_KEY, and treats an empty one as unset", () => {
  const anonKey = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl";
  assert.equal(parseWorkerConfig({ ...SEED_ENV, SUPABASE_ANON_KEY: anonKey }).anonKey, anonKey);
  assert.equal(parseWorkerConfig({ ...SEED_ENV, SUPABASE_ANON_KEY: "" }).anonKey, null);
  assert.throws(
    () => parseWorkerConfig({ ...SEED_ENV, SUPABASE_ANON_KEY: "two words" }),
    (error: Error) =>
      error instanceof WorkerConfigError &&
      error.message ===
        "Cannot start the worker: SUPABASE_ANON_KEY must be the project's anon key, one word",
  );
});
