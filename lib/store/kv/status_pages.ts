/**
 * Status pages in Deno KV: the record under its owner (for listing) and under its slug (the
 * public pages' one read), written together; the slug key's `versionstamp: null` check is what
 * makes a slug unique across owners.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { StatusPage } from "../../status/types.ts";
import type { StatusPageStore } from "../status_pages.ts";
import type { ListOptions } from "../store.ts";
import type { Page } from "../types.ts";
import { kvKeys } from "./keys.ts";
import { collect } from "./kv_store.ts";

export class KvStatusPageStore implements StatusPageStore {
  constructor(private readonly kv: Deno.Kv) {}

  async create(page: StatusPage): Promise<void> {
    const key = kvKeys.statusPage(page.userId, page.id);
    const slugKey = kvKeys.statusPageSlug(page.slug);
    const result = await this.kv.atomic()
      .check({ key, versionstamp: null }, { key: slugKey, versionstamp: null })
      .set(key, page)
      .set(slugKey, page)
      .commit();
    if (!result.ok) throw taken(page.slug);
  }

  async get(userId: string, id: string): Promise<StatusPage | null> {
    return (await this.kv.get<StatusPage>(kvKeys.statusPage(userId, id))).value;
  }

  async bySlug(slug: string): Promise<StatusPage | null> {
    return (await this.kv.get<StatusPage>(kvKeys.statusPageSlug(slug))).value;
  }

  async list(userId: string, options: ListOptions): Promise<Page<StatusPage>> {
    const iter = this.kv.list<StatusPage>(
      { prefix: kvKeys.statusPagesOf(userId) },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  async update(
    userId: string,
    id: string,
    change: (page: StatusPage) => StatusPage,
  ): Promise<StatusPage> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.kv.get<StatusPage>(kvKeys.statusPage(userId, id));
      if (!current.value) throw new NotFoundError(`Status page "${id}" not found`);
      const next = change(current.value);
      const op = this.kv.atomic().check(current).set(current.key, next);
      if (next.slug === current.value.slug) {
        op.set(kvKeys.statusPageSlug(next.slug), next);
      } else {
        const slugKey = kvKeys.statusPageSlug(next.slug);
        if ((await this.kv.get(slugKey)).versionstamp !== null) throw taken(next.slug);
        op.check({ key: slugKey, versionstamp: null })
          .set(slugKey, next)
          .delete(kvKeys.statusPageSlug(current.value.slug));
      }
      if ((await op.commit()).ok) return next;
    }
    throw new ConflictError("Cannot update status page: too many concurrent changes");
  }

  async delete(userId: string, id: string): Promise<void> {
    const current = await this.kv.get<StatusPage>(kvKeys.statusPage(userId, id));
    if (!current.value) throw new NotFoundError(`Status page "${id}" not found`);
    const result = await this.kv.atomic().check(current).delete(current.key)
      .delete(kvKeys.statusPageSlug(current.value.slug)).commit();
    if (!result.ok) {
      throw new ConflictError("Cannot delete status page: it changed meanwhile, try again");
    }
  }
}

function taken(slug: string): ConflictError {
  return new ConflictError(`Cannot use slug "${slug}": another status page has it`);
}
