/**
 * Creates an API key from the command line, for the first key of a fresh install:
 *   deno task key:create --scopes read:jobs,write:jobs,read:logs,write:logs,admin [--user default] [--name cli]
 * The key is printed once; only its hash is stored. With DATABASE_URL set it goes to that
 * Postgres database (migrated first, as `deno task start` does), else to the Deno KV file.
 */
import { parseArgs } from "node:util";
import { dirname } from "node:path";
import { createApiKey, DEFAULT_USER, parseScopes } from "../lib/auth.ts";
import { ConfigError, parseConfig } from "../lib/config.ts";
import { dataPathProblem } from "../lib/data_path_access.ts";
import { ValidationError } from "../lib/errors.ts";
import { KvStore } from "../lib/store/kv/kv_store.ts";
import { openKv } from "../lib/store/kv/open_kv.ts";
import type { Store } from "../lib/store/store.ts";
import { SCOPES } from "../lib/store/types.ts";

const usage = `Usage: deno task key:create --scopes <list> [--user <id>] [--name <label>]
  --scopes  comma-separated: ${SCOPES.join(", ")} (or "all")
  --user    owner of the key (default: ${DEFAULT_USER})
  --name    a label shown in key lists (default: cli)`;

try {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scopes: { type: "string" },
      user: { type: "string", default: DEFAULT_USER },
      name: { type: "string", default: "cli" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !values.scopes) {
    console.log(usage);
    Deno.exit(values.help ? 0 : 2);
  }
  const scopes = parseScopes(
    values.scopes === "all" ? [...SCOPES] : values.scopes.split(",").map((s) => s.trim()),
  );
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(values.user)) {
    throw new ValidationError("--user must be 1-64 letters, digits or _.@-", "user");
  }
  const config = parseConfig(Deno.env.toObject());
  const { store, close } = await openStore(config);
  let created;
  try {
    created = await createApiKey(
      store,
      { userId: values.user, name: values.name, scopes },
      Date.now(),
    );
  } finally {
    await close();
  }
  const { key, record } = created;
  console.log(
    `Created API key ${record.id} for user "${record.userId}" (${record.scopes.join(", ")})`,
  );
  console.log("Store it now; it is not shown again:");
  console.log(key);
} catch (error) {
  if (
    error instanceof ValidationError || error instanceof ConfigError || error instanceof TypeError
  ) {
    console.error(`Cannot create API key: ${error.message}`);
    console.error(usage);
    Deno.exit(2);
  }
  throw error;
}

/** The store `deno task start` would use with this configuration. */
async function openStore(
  config: ReturnType<typeof parseConfig>,
): Promise<{ store: Store; close: () => Promise<void> }> {
  if (config.database) {
    const { connectPostgres, createPostgresStores, migrate } = await import(
      "../lib/store/postgres/mod.ts"
    );
    const sql = connectPostgres(config.database.url, { prepare: config.database.prepare, max: 1 });
    try {
      await migrate(sql);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw new ConfigError(`DATABASE_URL: ${(error as Error).message}`);
    }
    return { store: createPostgresStores(sql).records, close: () => sql.end({ timeout: 5 }) };
  }
  if (config.kvPath === null || config.kvPath === ":memory:") {
    throw new ConfigError("Cannot create a key in an in-memory store: set HIBIKI_KV_PATH");
  }
  const kvPathProblem = dataPathProblem("HIBIKI_KV_PATH", config.kvPath);
  if (kvPathProblem) throw new ConfigError(kvPathProblem);
  await Deno.mkdir(dirname(config.kvPath), { recursive: true });
  const kv = await openKv(config.kvPath);
  return { store: new KvStore(kv), close: () => Promise.resolve(kv.close()) };
}
