/**
 * Hibiki's composition root: configuration → store → system → HTTP server, the minute
 * cron tick and the wake-ups between processes. The store is Postgres when DATABASE_URL is
 * set (migrated at start, under an advisory lock), else the Deno KV file. Nothing else lives
 * here.
 */
import { dirname } from "node:path";
import { ConfigError, parseConfig } from "./lib/config.ts";
import { dataPathProblem } from "./lib/data_path_access.ts";
import { loadMasterKey } from "./lib/master_key.ts";
import { openKv } from "./lib/store/kv/open_kv.ts";
import { kvStores, KvWakeups, upgradeKvLayout } from "./lib/store/kv/mod.ts";
import type { StoreFactory } from "./lib/store/stores.ts";
import type { Wakeups } from "./lib/store/wakeups.ts";
import { startNotes } from "./lib/start_log.ts";
import { createSystem } from "./system.ts";

let config;
let masterKey;
try {
  config = parseConfig(Deno.env.toObject());
  const kvPathProblem = config.database ? null : dataPathProblem("HIBIKI_KV_PATH", config.kvPath);
  if (kvPathProblem) throw new ConfigError(`Cannot start: ${kvPathProblem}`);
  const master = await loadMasterKey(config);
  if (master.warning) console.warn(`Warning: ${master.warning}`);
  masterKey = master.key;
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    Deno.exit(2);
  }
  throw error;
}

let stores: StoreFactory;
let wakeups: Wakeups;
let closeStore: () => Promise<void>;
if (config.database) {
  // Loaded only here: the Postgres driver is not what a process on the KV file needs to carry.
  const { connectPostgres, migrate, PgWakeups, postgresStores } = await import(
    "./lib/store/postgres/mod.ts"
  );
  const sql = connectPostgres(config.database.url, { prepare: config.database.prepare });
  try {
    const applied = await migrate(sql);
    if (applied.length > 0) console.log(`Applied database migrations ${applied.join(", ")}`);
  } catch (error) {
    // Unreachable, refused or not allowed: a setup problem to state, not a crash to trace.
    console.error(`Cannot prepare the database at DATABASE_URL: ${(error as Error).message}`);
    Deno.exit(1);
  }
  stores = postgresStores(sql);
  wakeups = new PgWakeups(sql, { listen: config.database.listen });
  closeStore = () => sql.end({ timeout: 5 });
} else {
  if (config.kvPath !== null && config.kvPath !== ":memory:") {
    await Deno.mkdir(dirname(config.kvPath), { recursive: true });
  }
  const kv = await openKv(config.kvPath ?? undefined);
  // Before anything reads a job's state: a file from an older version moves its keys once.
  await upgradeKvLayout(kv);
  stores = kvStores(kv);
  wakeups = new KvWakeups(kv);
  closeStore = () => Promise.resolve(kv.close());
}
const system = createSystem(stores, config, { masterKey, wakeups });

// Deno.cron must be registered at the top level of the main module. The process also ticks
// on its own at :30 of each minute; this one does the work only if that one did not.
Deno.cron("hibiki-tick", "* * * * *", async () => {
  await system.cronTick();
});

system.listen();

let server: Deno.HttpServer<Deno.NetAddr>;
try {
  server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => console.log(`Hibiki listening on http://${hostname}:${port}`),
  }, system.app.fetch);
} catch (error) {
  // A port already taken (often another Hibiki) is a setup problem, not a crash to trace.
  const why = error instanceof Deno.errors.AddrInUse
    ? "the address is already in use; stop the other process or set PORT to a free port"
    : (error as Error).message;
  console.error(`Cannot listen on ${config.hostname}:${config.port}: ${why}`);
  Deno.exit(1);
}

// Where the admin pages are and how to sign in: the first thing a new user looks for.
const notes = await startNotes(config, { port: server.addr.port, users: system.adminSignIn });
for (const note of notes) console.log(note);

// After the server is up, so start-up time does not grow with the number of jobs.
await system.start();

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}: stopping after runs in flight`);
    await server.shutdown();
    await system.stop();
    await closeStore();
    Deno.exit(0);
  });
}
