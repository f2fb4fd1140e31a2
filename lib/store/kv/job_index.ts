/**
 * Indexes that let the admin dashboard search and filter ten thousand jobs without reading
 * them all: the words of each job's name (`["job_word", user, word, job]`, for search by word
 * prefix) and the job's state (`["job_state", user, "up" | "down" | "paused", job]`). The word
 * and pause entries are written in the same atomic operation as the job (see KvStore); up and
 * down with the run (`recordRun`), as blind writes that need no read.
 *
 * Search takes the longest query word to the index, then checks the other words and the state
 * filter on the candidates; a page reads at most `MAX_SCAN` index entries, so a rare match costs
 * a few short pages, never a scan of everything.
 */
import { ValidationError } from "../../errors.ts";
import { nameWords } from "../job_words.ts";
import type { Store, StoredJob } from "../store.ts";
import type { Job, JobQuery, JobState, Page, Run } from "../types.ts";
import { getMany } from "./get_many.ts";
import { kvKeys } from "./keys.ts";

const MAX_SCAN = 1000;
/** Sorts after every string that starts with the same prefix. */
const HIGHEST = "\u{10FFFF}";

/** Keeps the word and pause entries of a job in step with it (add to the job's own write). */
export function writeJobIndex(op: Deno.AtomicOperation, before: Job | null, after: Job | null) {
  const owner = (after ?? before)!.userId;
  const id = (after ?? before)!.id;
  const kept = new Set(after ? nameWords(after.name) : []);
  for (const word of before ? nameWords(before.name) : []) {
    if (!kept.has(word)) op.delete(kvKeys.jobWord(owner, word, id));
  }
  for (const word of kept) op.set(kvKeys.jobWord(owner, word, id), null);
  if (after && !after.enabled) {
    op.set(kvKeys.jobInState(owner, "paused", id), null);
  } else {
    op.delete(kvKeys.jobInState(owner, "paused", id));
  }
  // Paused or gone: the last run's state no longer describes the job.
  if (!after || (before?.enabled && !after.enabled)) {
    op.delete(kvKeys.jobInState(owner, "up", id));
    op.delete(kvKeys.jobInState(owner, "down", id));
  }
}

/**
 * Records whether a job is up or down after a run (add to the run's own write): the outcome
 * of its newest run, as the dashboard's row shows it. A job checked from several places
 * (locally and by workers) gets runs from several writers, and workers' results arrive in
 * batches, late: a run older than the job's newest stored run must not be written here
 * (`RunCompletion.newest: false`), and the newest of a batch goes last.
 *
 * `known` is the job's state as read before the run (null when unknown): when the run does
 * not change it, nothing is written, which spares two writes on almost every run. Only a
 * job's sole writer may pass it: with another writer between the read and this write, the
 * skipped write would leave the other writer's state in place.
 */
export function writeRunState(
  op: Deno.AtomicOperation,
  run: Run,
  known: "up" | "down" | null = null,
): void {
  if (run.status === "missed") return;
  const [now, was] = run.status === "success" ? ["up", "down"] : ["down", "up"];
  if (known === now) return;
  op.set(kvKeys.jobInState(run.userId, now, run.jobId), null);
  op.delete(kvKeys.jobInState(run.userId, was, run.jobId));
}

/** Search and state filters over the indexes (`KvStore.searchJobs`). */
export class KvJobSearch {
  constructor(private readonly kv: Deno.Kv, private readonly store: Store) {}

  async page(userId: string, query: JobQuery): Promise<Page<StoredJob>> {
    const words = nameWords(query.q ?? "");
    if (words.length === 0 && !query.state) {
      return await this.store.listJobs(userId, query);
    }
    const [lead, ...rest] = [...words].sort((a, b) => b.length - a.length);
    const selector: Deno.KvListSelector = lead
      ? { start: kvKeys.jobWord(userId, lead, ""), end: kvKeys.jobWord(userId, lead + HIGHEST, "") }
      : { prefix: kvKeys.jobsInState(userId, query.state!) };
    const iter = this.kv.list<null>(selector, { cursor: query.cursor, limit: MAX_SCAN });
    const accept = async (jobs: StoredJob[]) => {
      const named = jobs.filter((s) => {
        const own = nameWords(s.job.name);
        return rest.every((w) => own.some((o) => o.startsWith(w)));
      });
      if (!lead || !query.state) return named;
      return await this.inState(userId, query.state, named);
    };
    return await this.collectPage(userId, iter, query.limit, accept);
  }

  private async collectPage(
    userId: string,
    iter: Deno.KvListIterator<null>,
    limit: number,
    accept: (jobs: StoredJob[]) => Promise<StoredJob[]>,
  ): Promise<Page<StoredJob>> {
    const out: StoredJob[] = [];
    const seen = new Set<string>();
    let read = 0;
    let end = false;
    while (out.length < limit && !end) {
      const ids: string[] = [];
      while (ids.length < limit - out.length) {
        const next = await nextEntry(iter);
        if (next.done) {
          // The scan limit is not the end of the index: the cursor goes on from there.
          end = read < MAX_SCAN;
          break;
        }
        read++;
        const jobId = next.value.key[next.value.key.length - 1] as string;
        if (!seen.has(jobId)) ids.push(jobId);
        seen.add(jobId);
      }
      if (!end && ids.length === 0) break;
      const jobs = await Promise.all(ids.map((id) => this.store.getJob(userId, id)));
      out.push(...await accept(jobs.filter((j): j is StoredJob => j !== null)));
    }
    return { values: out, cursor: end ? null : iter.cursor || null };
  }

  private async inState(userId: string, state: JobState, jobs: StoredJob[]) {
    const entries = await getMany(
      this.kv,
      jobs.map((s) => kvKeys.jobInState(userId, state, s.job.id)),
    );
    return jobs.filter((_, i) => entries[i].versionstamp !== null);
  }
}

/** The next entry, turning a cursor Deno KV cannot decode into a client error. */
async function nextEntry(iter: Deno.KvListIterator<null>) {
  try {
    return await iter.next();
  } catch (error) {
    if (error instanceof TypeError && /cursor/i.test(error.message)) {
      throw new ValidationError("cursor is not a cursor this page returned", "cursor");
    }
    throw error;
  }
}
