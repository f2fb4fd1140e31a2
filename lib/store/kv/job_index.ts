/**
 * Indexes that let the admin dashboard search, filter and count ten thousand jobs without
 * reading them all: the words of each job's name (`["job_word", user, word, job]`, for search
 * by word prefix) and the state the dashboard shows (`["job_state", user, state, job]`, with a
 * counter per state). The word entries are written in the same atomic operation as the job
 * (see KvStore); the state entry where that state changes: with each alert decision
 * (KvAlertStore.decide) and with a job's creation, pause, resume and deletion (KvStore), each
 * writer moving it from the state it read to the new one (`moveJobState`), under a check on
 * the job's alert state, so the entries and counters stay exact without a read of the index.
 *
 * Search takes the longest query word to the index, then checks the other words and the state
 * filter on the candidates; a page reads at most `MAX_SCAN` index entries, so a rare match costs
 * a few short pages, never a scan of everything.
 */
import { ALERT_STATES, type AlertState } from "../../alerts/types.ts";
import { ValidationError } from "../../errors.ts";
import { nameWords } from "../job_words.ts";
import type { JobStateCounts, Store, StoredJob } from "../store.ts";
import type { Job, JobQuery, JobState, Page } from "../types.ts";
import { getMany } from "./get_many.ts";
import { kvKeys } from "./keys.ts";

const MAX_SCAN = 1000;
/** Sorts after every string that starts with the same prefix. */
const HIGHEST = "\u{10FFFF}";
/** KvU64 `sum` adds this to take one away (it wraps at 2^64). */
const MINUS_ONE = 0xffffffffffffffffn;

/** Keeps the word entries of a job in step with its name (add to the job's own write). */
export function writeJobIndex(op: Deno.AtomicOperation, before: Job | null, after: Job | null) {
  const owner = (after ?? before)!.userId;
  const id = (after ?? before)!.id;
  const kept = new Set(after ? nameWords(after.name) : []);
  for (const word of before ? nameWords(before.name) : []) {
    if (!kept.has(word)) op.delete(kvKeys.jobWord(owner, word, id));
  }
  for (const word of kept) op.set(kvKeys.jobWord(owner, word, id), null);
}

/** The state the dashboard shows for a job: its alert state (`pending` before any), or paused. */
export function shownState(alert: AlertState | null | undefined, enabled: boolean): AlertState {
  return enabled ? alert ?? "pending" : "paused";
}

/**
 * Moves a job's state entry and counters from `from` to `to` (null: none), as blind writes
 * added to the write that changes the state; the caller's check on the job's alert state
 * makes `from` the entry that exists.
 */
export function moveJobState(
  op: Deno.AtomicOperation,
  userId: string,
  jobId: string,
  from: AlertState | null,
  to: AlertState | null,
): void {
  if (from === to) return;
  if (from !== null) {
    op.delete(kvKeys.jobInState(userId, from, jobId));
    op.sum(kvKeys.jobStateCount(userId, from), MINUS_ONE);
  }
  if (to !== null) {
    op.set(kvKeys.jobInState(userId, to, jobId), null);
    op.sum(kvKeys.jobStateCount(userId, to), 1n);
  }
}

/** The owner's jobs by shown state, from the counters (never below zero). */
export async function countJobStates(kv: Deno.Kv, userId: string): Promise<JobStateCounts> {
  const entries = await kv.getMany<Deno.KvU64[]>(
    ALERT_STATES.map((state) => kvKeys.jobStateCount(userId, state)),
  );
  return Object.fromEntries(
    ALERT_STATES.map((state, i) => {
      const value = entries[i].value?.value ?? 0n;
      return [state, Math.max(0, Number(BigInt.asIntN(64, value)))];
    }),
  ) as JobStateCounts;
}

/** The job_state layout this code writes (see kvKeys.jobStateLayout). */
const STATE_LAYOUT = 2;
/** Jobs re-indexed per atomic operation: three mutations each. */
const UPGRADE_BATCH = 200;

/**
 * Rebuilds the state index and its counters from the jobs and their alert states, once, in a
 * store written before they existed (its index said each job's last run); a single read after
 * that. Runs at start-up with the purge chore, before the first page asks; a decision landing
 * while it runs is re-applied by the job's next one.
 */
export async function upgradeJobStates(kv: Deno.Kv): Promise<number> {
  const layout = await kv.get<number>(kvKeys.jobStateLayout());
  if (layout.value === STATE_LAYOUT) return 0;
  for (const prefix of [kvKeys.jobStates(), kvKeys.jobStateCounts()]) {
    for (;;) {
      const keys: Deno.KvKey[] = [];
      for await (const entry of kv.list({ prefix }, { limit: 500 })) keys.push(entry.key);
      if (keys.length === 0) break;
      const op = kv.atomic();
      for (const key of keys) op.delete(key);
      await op.commit();
    }
  }
  let jobs: Job[] = [];
  let indexed = 0;
  const flush = async () => {
    const alerts = await getMany(kv, jobs.map((j) => kvKeys.alertState(j.userId, j.id)));
    const op = kv.atomic();
    jobs.forEach((job, i) => {
      const alert = alerts[i].value as { state: AlertState } | null;
      moveJobState(op, job.userId, job.id, null, shownState(alert?.state, job.enabled));
    });
    await op.commit();
    indexed += jobs.length;
    jobs = [];
  };
  for await (const entry of kv.list<Job>({ prefix: ["job"] })) {
    if (entry.key.length !== 3) continue; // a job's counters and pointer
    jobs.push(entry.value);
    if (jobs.length === UPGRADE_BATCH) await flush();
  }
  if (jobs.length > 0) await flush();
  await kv.set(kvKeys.jobStateLayout(), STATE_LAYOUT);
  return indexed;
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
