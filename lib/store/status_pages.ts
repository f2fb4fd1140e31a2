/**
 * The contract for status pages (issue 13): one record per page under its owner, and the same
 * record under its slug, which is unique across owners. A slug is taken or moved in the same
 * atomic write as the record, so two owners asking for one slug at once cannot both get it.
 */
import type { StatusPage } from "../status/types.ts";
import type { ListOptions } from "./store.ts";
import type { Page } from "./types.ts";

export interface StatusPageStore {
  /** Writes a new page; ConflictError when its slug (or id) is taken. */
  create(page: StatusPage): Promise<void>;
  get(userId: string, id: string): Promise<StatusPage | null>;
  /** The page published at `slug`, whoever owns it; one read (the public pages ask it). */
  bySlug(slug: string): Promise<StatusPage | null>;
  /** An owner's pages in id order (creation order for the ids Hibiki makes). */
  list(userId: string, options: ListOptions): Promise<Page<StatusPage>>;
  /**
   * Compare-and-set change, retried while others change the page; a new slug is taken in the
   * same write (ConflictError when another page has it). Throws NotFoundError.
   */
  update(
    userId: string,
    id: string,
    change: (page: StatusPage) => StatusPage,
  ): Promise<StatusPage>;
  /** Frees its slug with it. Throws NotFoundError when there is no such page. */
  delete(userId: string, id: string): Promise<void>;
}
