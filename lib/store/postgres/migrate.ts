/**
 * Applies the SQL migrations in `supabase/migrations/` (the Supabase CLI's layout, so
 * `supabase db push` applies the same files): each file once, in name order, recorded in
 * `hibiki_schema_migrations`, all in one transaction under an advisory lock so that
 * processes starting together apply them once. The files are idempotent themselves
 * (`if not exists`), so a database `supabase db push` already migrated is left as it is.
 */
import type { Sql } from "./connect.ts";

/** The advisory lock taken while migrating: any constant; this one spells "hibiki". */
const MIGRATION_LOCK = 0x686962696b69;

const FOLDER = new URL("../../../supabase/migrations/", import.meta.url);

export interface Migration {
  /** The timestamp the file name starts with. */
  version: string;
  name: string;
  sql: string;
}

/** The migrations in the folder, in order. */
export async function readMigrations(folder: URL = FOLDER): Promise<Migration[]> {
  const out: Migration[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const match = /^(\d{14})_([a-z0-9_]+)\.sql$/.exec(entry.name);
    if (!entry.isFile || !match) continue;
    out.push({
      version: match[1],
      name: match[2],
      sql: await Deno.readTextFile(new URL(entry.name, folder)),
    });
  }
  return out.sort((a, b) => a.version.localeCompare(b.version));
}

/** Applies the migrations not applied yet; resolves the versions it applied. */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? await readMigrations();
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe(`create table if not exists public.hibiki_schema_migrations (
      version text primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`);
    const applied = new Set(
      (await tx`select version from public.hibiki_schema_migrations`).map((r) => r.version),
    );
    const done: string[] = [];
    for (const migration of all) {
      if (applied.has(migration.version)) continue;
      await tx.unsafe(migration.sql).simple();
      await tx`insert into public.hibiki_schema_migrations (version, name)
        values (${migration.version}, ${migration.name})`;
      done.push(migration.version);
    }
    return done;
  });
}
