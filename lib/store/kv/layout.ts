/**
 * Brings a KV file written by an older release to the layout this code writes, once, at
 * start-up before anything runs (main.ts):
 * - 2: each job's alert state and latest results went from keys of their own
 *   (`["alert_state", userId, jobId]`, `["job_recent", userId, jobId]`) to the job's own range
 *   (`["job", userId, jobId, "alert" | "recent"]`), next to what every run rewrites anyway;
 * - 3: the job's run count and last run (KvU64 keys `["job", userId, jobId, "count" | "last"]`)
 *   joined its latest results in one value (lib/store/kv/job_tally.ts);
 * - 4: the alert state and the tally went on, to just after the job's newest run
 *   (`kvKeys.alertState`, `kvKeys.jobTally`; see lib/store/kv/keys.ts).
 *
 * Each change is one atomic operation with what it read checked, so several processes starting
 * together make each once; this code never writes the old keys, so nothing goes back. Every
 * process sharing a KV file has to run this release or later (the README says so).
 */
import { getMany } from "./get_many.ts";
import { type JobTally, packTally } from "./job_tally.ts";
import { kvKeys } from "./keys.ts";

/** The layout this code reads and writes. */
export const KV_LAYOUT = 4;
/** Jobs folded per atomic operation: three checks each, inside Deno KV's 100. */
const FOLD_BATCH = 30;
/** Keys moved per atomic operation: two checks each, inside Deno KV's 100. */
const MOVE_BATCH = 45;

type KeyOf = (userId: string, jobId: string) => Deno.KvKey;

/** Before layout 2: keys of their own, `[from, userId, jobId]`. */
const OWN_KEYS: { from: string; to: KeyOf }[] = [
  { from: "alert_state", to: kvKeys.alertState },
  { from: "job_recent", to: kvKeys.jobTally },
];
/** Layouts 2 and 3: `["job", userId, jobId, part]`. */
const JOB_RANGE_MOVES: Record<string, KeyOf> = {
  alert: kvKeys.alertState,
  recent: kvKeys.jobTally,
};

/** Upgrades the file's layout if it is older; returns how many keys moved or folded. */
export async function upgradeKvLayout(kv: Deno.Kv): Promise<number> {
  const layout = await kv.get<number>(kvKeys.layout());
  if (layout.value !== null && layout.value >= KV_LAYOUT) return 0;
  let moved = 0;
  for (const { from, to } of layout.value === null ? OWN_KEYS : []) {
    for (;;) {
      const entries: Deno.KvEntry<unknown>[] = [];
      for await (const entry of kv.list({ prefix: [from] }, { limit: MOVE_BATCH })) {
        entries.push(entry);
      }
      if (entries.length === 0) break;
      moved += await moveAll(kv, entries, entries.map((e) => to(...userAndJob(e.key))));
    }
  }
  moved += await moveJobParts(kv);
  moved += await foldCounters(kv);
  await kv.set(kvKeys.layout(), KV_LAYOUT);
  return moved;
}

function userAndJob(key: Deno.KvKey): [string, string] {
  return [key[1] as string, key[2] as string];
}

/** Moves the parts layouts 2 and 3 kept in each job's range; returns how many moved. */
async function moveJobParts(kv: Deno.Kv): Promise<number> {
  let moved = 0;
  let batch: Deno.KvEntry<unknown>[] = [];
  const flush = async () => {
    const to = batch.map((e) => JOB_RANGE_MOVES[e.key[3] as string](...userAndJob(e.key)));
    moved += await moveAll(kv, batch, to);
    batch = [];
  };
  for await (const entry of kv.list({ prefix: ["job"] })) {
    if (entry.key.length !== 4 || !Object.hasOwn(JOB_RANGE_MOVES, entry.key[3] as string)) continue;
    batch.push(entry);
    if (batch.length === MOVE_BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return moved;
}

/** A job's KvU64 counters before layout 3. */
function counterKeys(userId: string, jobId: string): [Deno.KvKey, Deno.KvKey] {
  return [["job", userId, jobId, "count"], ["job", userId, jobId, "last"]];
}

/** Folds every job's counters into its tally; returns how many jobs it folded. */
async function foldCounters(kv: Deno.Kv): Promise<number> {
  let jobs: [string, string][] = [];
  let folded = 0;
  for await (const { key } of kv.list({ prefix: ["job"] })) {
    if (key.length !== 4 || key[3] !== "count") continue;
    jobs.push([key[1] as string, key[2] as string]);
    if (jobs.length === FOLD_BATCH) {
      folded += await foldAll(kv, jobs);
      jobs = [];
    }
  }
  return folded + (jobs.length > 0 ? await foldAll(kv, jobs) : 0);
}

/** Folds the jobs' counters together, or one by one when another process changed some first. */
async function foldAll(kv: Deno.Kv, jobs: [string, string][]): Promise<number> {
  // Committed: the jobs it left out were folded elsewhere.
  const together = await foldOnce(kv, jobs);
  if (together > 0) return together;
  let folded = 0;
  for (const job of jobs) folded += await foldOnce(kv, [job]);
  return folded;
}

/** One atomic operation folding the jobs whose counters are still there; how many it folded. */
async function foldOnce(kv: Deno.Kv, jobs: [string, string][]): Promise<number> {
  const keys = jobs.flatMap(([u, j]) => [...counterKeys(u, j), kvKeys.jobTally(u, j)]);
  const entries = await getMany(kv, keys);
  const op = kv.atomic();
  let folding = 0;
  jobs.forEach(([userId, jobId], i) => {
    const [count, last, recent] = entries.slice(3 * i, 3 * i + 3);
    if (count.versionstamp === null) return; // folded by another process
    const tally: JobTally = {
      count: Number((count.value as Deno.KvU64).value),
      lastRunAt: last.value instanceof Deno.KvU64 ? Number(last.value.value) : 0,
      // Before layout 3 the value was the ring alone.
      ring: (recent.value as Uint8Array | null) ?? new Uint8Array(0),
    };
    op.check(count, last, recent).set(kvKeys.jobTally(userId, jobId), packTally(tally))
      .delete(count.key).delete(last.key);
    folding++;
  });
  if (folding === 0) return 0;
  return (await op.commit()).ok ? folding : 0;
}

/**
 * Moves the entries to their destinations, together or (when another process moved some first)
 * one by one; an entry whose new key exists already is dropped, the new one being newer.
 */
async function moveAll(
  kv: Deno.Kv,
  entries: Deno.KvEntry<unknown>[],
  destinations: Deno.KvKey[],
): Promise<number> {
  const op = kv.atomic();
  entries.forEach((entry, i) => {
    op.check(entry).check({ key: destinations[i], versionstamp: null })
      .set(destinations[i], entry.value).delete(entry.key);
  });
  if ((await op.commit()).ok) return entries.length;
  let moved = 0;
  for (const [i, entry] of entries.entries()) {
    const one = await kv.atomic().check(entry).check({ key: destinations[i], versionstamp: null })
      .set(destinations[i], entry.value).delete(entry.key).commit();
    if (one.ok) {
      moved++;
      continue;
    }
    // Gone (moved by another process), or already written anew: the old entry is stale.
    await kv.atomic().check(entry).delete(entry.key).commit();
  }
  return moved;
}
