/**
 * Status pages as their owner manages them (`/api/status-pages`): create, list, read, change,
 * delete. A page lists only its owner's jobs; its slug is unique across owners (the store
 * takes it atomically). A change tells the public board (`onChange`), so this process shows
 * it at once; another process reads the page's record on every request (status_board.ts).
 */
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { randomBytes } from "../crypto.ts";
import type { StatusPageStore } from "../store/status_pages.ts";
import type { ListOptions } from "../store/store.ts";
import type { Page } from "../store/types.ts";
import { jobIdsOf, parsePageInput, parsePagePatch } from "./status_page_input.ts";
import type { StatusPage } from "./types.ts";

/** An owner's pages at most: each is public, and a page is cheap only while there are few. */
export const MAX_PAGES_PER_OWNER = 100;
const PAGE_ID = /^sp_[0-9a-z]{9}[0-9a-f]{16}$/;

export interface StatusPageServiceOptions {
  store: StatusPageStore;
  clock: Clock;
  /** Whether the user has the job: a page lists only its owner's jobs. */
  jobExists: (userId: string, jobId: string) => Promise<boolean>;
  /** Told of every change, with the slugs it touched (the board forgets what it built). */
  onChange?: (slugs: string[]) => void;
}

export class StatusPageService {
  constructor(private readonly options: StatusPageServiceOptions) {}

  list(userId: string, page: ListOptions): Promise<Page<StatusPage>> {
    return this.options.store.list(userId, page);
  }

  get(userId: string, id: string): Promise<StatusPage> {
    return this.record(userId, id);
  }

  async create(userId: string, body: unknown): Promise<StatusPage> {
    const fields = parsePageInput(body);
    await this.checkJobs(userId, jobIdsOf(fields), []);
    const existing = await this.options.store.list(userId, { limit: MAX_PAGES_PER_OWNER });
    if (existing.values.length >= MAX_PAGES_PER_OWNER) {
      throw new ConflictError(
        `Cannot create status page: ${MAX_PAGES_PER_OWNER} exist, delete one first`,
      );
    }
    const now = this.options.clock.now();
    const stamp = new Date(now).toISOString();
    const page: StatusPage = {
      id: newPageId(now),
      userId,
      ...fields,
      createdAt: stamp,
      updatedAt: stamp,
    };
    await this.options.store.create(page);
    this.options.onChange?.([page.slug]);
    return page;
  }

  async update(userId: string, id: string, body: unknown): Promise<StatusPage> {
    const current = await this.record(userId, id);
    await this.checkJobs(userId, jobIdsOf(parsePagePatch(body, current)), jobIdsOf(current));
    let before = current.slug;
    const next = await this.options.store.update(userId, id, (stored) => {
      before = stored.slug;
      // Parsed again against the stored version: the patch applies to what is there now.
      return {
        ...stored,
        ...parsePagePatch(body, stored),
        updatedAt: new Date(this.options.clock.now()).toISOString(),
      };
    });
    this.options.onChange?.([before, next.slug]);
    return next;
  }

  async delete(userId: string, id: string): Promise<void> {
    const current = await this.record(userId, id);
    await this.options.store.delete(userId, id);
    this.options.onChange?.([current.slug]);
  }

  private async record(userId: string, id: string): Promise<StatusPage> {
    const page = PAGE_ID.test(id) ? await this.options.store.get(userId, id) : null;
    if (!page) throw new NotFoundError(`Status page "${id}" not found`);
    return page;
  }

  /** Jobs newly listed must be the owner's; ones listed before may have been deleted since. */
  private async checkJobs(userId: string, jobIds: string[], known: string[]): Promise<void> {
    const before = new Set(known);
    const added = jobIds.filter((jobId) => !before.has(jobId));
    const exists = await Promise.all(added.map((j) => this.options.jobExists(userId, j)));
    const missing = added.find((_, i) => !exists[i]);
    if (missing !== undefined) throw new NotFoundError(`Job "${missing}" not found`);
  }
}

/** `sp_` + creation time (base 36, sorts as it counts) + 16 random hex digits. */
function newPageId(now: number): string {
  return `sp_${now.toString(36).padStart(9, "0")}${randomBytes(8).toHex()}`;
}
