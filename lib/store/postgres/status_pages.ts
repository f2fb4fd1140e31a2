/**
 * Status pages in Postgres (contract: lib/store/status_pages.ts). The slug is a unique column,
 * so two owners asking for one slug at once cannot both get it: the second insert or update
 * meets the constraint and answers ConflictError.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { StatusPage } from "../../status/types.ts";
import type { StatusPageStore } from "../status_pages.ts";
import type { ListOptions } from "../store.ts";
import type { Page } from "../types.ts";
import type { Sql } from "./connect.ts";
import { asJson, page } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

/** Postgres's unique_violation. */
const UNIQUE_VIOLATION = "23505";

export class PgStatusPageStore implements StatusPageStore {
  constructor(private readonly sql: Sql) {}

  async create(page: StatusPage): Promise<void> {
    try {
      await this.sql`insert into public.hibiki_status_pages (user_id, id, slug, page)
        values (${page.userId}, ${page.id}, ${page.slug}, ${asJson(this.sql, page)})`;
    } catch (error) {
      throw conflictOr(error, page.slug);
    }
  }

  async get(userId: string, id: string): Promise<StatusPage | null> {
    const [row] = await this.sql`select page from public.hibiki_status_pages
      where user_id = ${userId} and id = ${id}`;
    return (row?.page as StatusPage | undefined) ?? null;
  }

  async bySlug(slug: string): Promise<StatusPage | null> {
    const [row] = await this.sql`select page from public.hibiki_status_pages where slug = ${slug}`;
    return (row?.page as StatusPage | undefined) ?? null;
  }

  async list(userId: string, options: ListOptions): Promise<Page<StatusPage>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, page from public.hibiki_status_pages
      where user_id = ${userId} ${after === undefined ? this.sql`` : this.sql`and id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.page as StatusPage, (r) => [r.id as string]);
  }

  async update(
    userId: string,
    id: string,
    change: (page: StatusPage) => StatusPage,
  ): Promise<StatusPage> {
    let slug = "";
    try {
      return await this.sql.begin(async (tx) => {
        const [row] = await tx`select page from public.hibiki_status_pages
          where user_id = ${userId} and id = ${id} for update`;
        if (!row) throw new NotFoundError(`Status page "${id}" not found`);
        const next = change(row.page as StatusPage);
        slug = next.slug;
        await tx`update public.hibiki_status_pages
          set slug = ${next.slug}, page = ${asJson(tx, next)}
          where user_id = ${userId} and id = ${id}`;
        return next;
      });
    } catch (error) {
      throw conflictOr(error, slug);
    }
  }

  async delete(userId: string, id: string): Promise<void> {
    const deleted = await this.sql`delete from public.hibiki_status_pages
      where user_id = ${userId} and id = ${id}`;
    if (deleted.count === 0) throw new NotFoundError(`Status page "${id}" not found`);
  }
}

/** A unique violation (the slug, or on create the id) as the KV store words it. */
function conflictOr(error: unknown, slug: string): unknown {
  if ((error as { code?: string }).code !== UNIQUE_VIOLATION) return error;
  return new ConflictError(`Cannot use slug "${slug}": another status page has it`);
}
