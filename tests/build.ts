/**
 * Builders for tests that need one part of Hibiki rather than the whole system: each builds
 * only that part over a Deno KV, wired as system.ts wires it. A test of HTTP behaviour sets up
 * through the app instead (tests/helpers.ts `callApp`, tests/admin_client.ts `api`); the
 * scheduling feature alone is `buildFires` in lib/scheduler/test_support.ts.
 */
import { type Clock, systemClock } from "../lib/clock.ts";
import { createKvStores } from "../lib/store/kv/mod.ts";
import type { Store } from "../lib/store/store.ts";

/**
 * The job and run store over `kv`. Over the KV a system runs on it sees what a second
 * process would: a test reads with it what the API does not show (the search indexes, the
 * runs a deleted job leaves) or calls a store chore directly.
 */
export function buildStore(kv: Deno.Kv, clock: Clock = systemClock): Store {
  return createKvStores(kv, { clock }).records;
}
