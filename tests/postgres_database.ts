/**
 * Fresh Postgres databases for tests, migrated: on the server `HIBIKI_TEST_DATABASE_URL`
 * names, when set (`deno task test` sets it to the cluster it started for the run), else on a
 * throwaway cluster this test file starts and stops when it ends. `DATABASE_URL` is never
 * used: it may well be a real database, and tests create and drop databases. The migrations
 * run once into a template; each database is a copy of it, dropped when disposed. Copying
 * takes a quarter of a second, so tests that only need an empty database take this file's
 * own one in turn (`emptyDatabase`), emptied for each.
 */
import { connectPostgres, type Sql } from "../lib/store/postgres/connect.ts";
import { migrate } from "../lib/store/postgres/migrate.ts";
import { type Cluster, startCluster } from "./postgres_cluster.ts";

export interface TestDatabase extends AsyncDisposable {
  url: string;
  sql: Sql;
}

let server: Promise<{ url: string; template: string }> | null = null;
let cluster: Cluster | null = null;

/** A new, migrated database of its own; disposing it closes its pool and drops it. */
export async function freshDatabase(): Promise<TestDatabase> {
  const { url, template } = await (server ??= prepare());
  const name = `hibiki_test_${crypto.randomUUID().replaceAll("-", "")}`;
  await admin(url, (sql) => sql.unsafe(`create database ${name} template ${template}`));
  const own = withDatabase(url, name);
  const sql = connectPostgres(own, { max: 4 });
  return {
    url: own,
    sql,
    async [Symbol.asyncDispose]() {
      await sql.end();
      await admin(url, (sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
    },
  };
}

let own: TestDatabase | null = null;
let ownBusy = false;

/**
 * An empty migrated database for one test: this test file's own, its rows deleted (a few
 * milliseconds), or a fresh one while another system of the same test holds it. Disposing it
 * hands it back; it is dropped with the file's process.
 */
export async function emptyDatabase(): Promise<TestDatabase> {
  if (ownBusy) return await freshDatabase();
  ownBusy = true;
  try {
    if (!own) {
      own = await freshDatabase();
      const kept = own;
      globalThis.addEventListener("unload", () => dropSync(kept.url));
    }
    // Every table but the record of applied migrations; foreign keys cascade.
    await own.sql.unsafe(`do $$ declare r record; begin
      for r in select tablename from pg_tables
        where schemaname = 'public' and tablename <> 'hibiki_schema_migrations'
      loop execute 'delete from public.' || quote_ident(r.tablename); end loop; end $$`);
  } catch (error) {
    ownBusy = false;
    throw error;
  }
  return {
    url: own.url,
    sql: own.sql,
    [Symbol.asyncDispose]() {
      ownBusy = false;
      return Promise.resolve();
    },
  };
}

/** Drops a database as the process ends (an unload listener cannot wait): needs `psql`. */
function dropSync(url: string): void {
  const parsed = new URL(url);
  const name = parsed.pathname.slice(1);
  const args = [
    withDatabase(url, "postgres"),
    "-c",
    `drop database if exists ${name} with (force)`,
  ];
  try {
    new Deno.Command("psql", { args, stdout: "null", stderr: "null" }).outputSync();
  } catch {
    // No psql here: the database stays until the server goes.
  }
}

async function prepare(): Promise<{ url: string; template: string }> {
  let url = Deno.env.get("HIBIKI_TEST_DATABASE_URL");
  if (!url) {
    cluster = await startCluster();
    url = cluster.url;
    // The cluster goes with this test file's process (an unload listener cannot wait).
    globalThis.addEventListener("unload", () => cluster?.stopSync());
  }
  const template = `hibiki_template_${crypto.randomUUID().replaceAll("-", "")}`;
  await admin(url, (sql) => sql.unsafe(`create database ${template}`));
  const sql = connectPostgres(withDatabase(url, template), { max: 1 });
  try {
    await migrate(sql);
  } finally {
    await sql.end();
  }
  if (!cluster) {
    // A shared server outlives this file: its template goes with it.
    globalThis.addEventListener("unload", () => {
      const args = [withDatabase(url, "postgres"), "-c", `drop database if exists ${template}`];
      try {
        new Deno.Command("psql", { args, stdout: "null", stderr: "null" }).outputSync();
      } catch {
        // No psql here: the template stays until the server goes.
      }
    });
  }
  return { url, template };
}

async function admin<T>(url: string, use: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connectPostgres(url, { max: 1 });
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
