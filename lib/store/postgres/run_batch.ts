/**
 * Many runs in one transaction (`Store.recordRuns`): a chunk of a worker's results. Each run is
 * written as `recordRun` writes one (only if it does not exist yet, with its job's counters
 * and latest results, its lease's release, its webhook outbox and its alert decide item), but
 * with one set-based statement per table for the whole chunk instead of six round trips per
 * run: the per-run transactions were ~3,000 round trips per 500 results, and their socket
 * writes alone a third of the process's CPU while workers' batches waited (bench edge on
 * Postgres: results written as runs went from ~3,000/s to ~15,000/s, alert decisions aside).
 *
 * Runs of one job are counted once per job: one update of its row adds them all and appends
 * their bytes to its latest results in the order given. The chunk's job rows are locked first
 * in key order, so two chunks naming the same jobs wait for each other instead of deadlocking.
 */
import { RECENT_ENTRY_BYTES, RECENT_MAX, recentEntry } from "../recent_results.ts";
import type { OutboxDelivery, RunCompletion } from "../store.ts";
import { addDecides } from "./alerts.ts";
import { writeOutboxes } from "./outbox.ts";
import { releaseLeases, type Tx } from "./util.ts";

/** The bytes of the latest results kept: the ring's capacity. */
const RECENT_BYTES = RECENT_MAX * RECENT_ENTRY_BYTES;

/** Writes the runs in `tx`; for each, whether it was written (false: it existed, or repeats). */
export async function writeRuns(
  tx: Tx,
  completions: readonly RunCompletion[],
): Promise<boolean[]> {
  // The first copy of a run listed twice is the one written; the others find it written.
  const firsts = new Map<string, number>();
  completions.forEach((c, n) => {
    const key = JSON.stringify([c.run.userId, c.run.jobId, c.scheduledAt, c.suffix]);
    if (!firsts.has(key)) firsts.set(key, n);
  });
  const unique = [...firsts.values()].map((n) => ({ n, c: completions[n] }));
  const jobs = [...new Map(unique.map(({ c }) => [`${c.run.userId} ${c.run.jobId}`, c.run]))
    .values()];
  const leases = completions.flatMap((c) => c.lease ? [c.lease] : []);
  // Sent together (one round trip): the locks, then the runs.
  const [, rows] = await Promise.all([
    tx`select 1 from public.hibiki_jobs
      where (user_id, id) in (
        select * from unnest(${jobs.map((r) => r.userId)}::text[], ${
      jobs.map((r) => r.jobId)
    }::text[]))
      order by user_id, id for update`,
    insertRuns(tx, unique),
    releaseLeases(tx, leases),
  ]);
  const written = completions.map(() => false);
  for (const row of rows) written[row.n as number] = true;
  const decides = completions.flatMap((c, n) => written[n] && c.decide ? [c.decide] : []);
  const outbox: OutboxDelivery[] = completions.flatMap((c, n) => written[n] ? c.outbox ?? [] : []);
  await Promise.all([addDecides(tx, decides), writeOutboxes(tx, outbox)]);
  return written;
}

/**
 * Inserts the runs that do not exist yet and adds them to their jobs' counters and latest
 * results; the rows name (`n`) the runs written.
 */
function insertRuns(tx: Tx, unique: { n: number; c: RunCompletion }[]) {
  const column = <T>(f: (c: RunCompletion, n: number) => T): T[] =>
    unique.map(({ n, c }) => f(c, n));
  // The runs as json text, cast on the server: json_to_recordset would refuse a "\u0000".
  return tx`with input as (
      select * from unnest(${column((_, n) => n)}::int[],
        ${column((c) => c.run.userId)}::text[], ${column((c) => c.run.jobId)}::text[],
        ${column((c) => c.scheduledAt)}::bigint[], ${column((c) => c.suffix)}::text[],
        ${column((c) => c.run.status)}::text[],
        ${column((c) => JSON.stringify(c.run))}::text[]::json[],
        ${column((c) => c.counts)}::boolean[],
        ${column((c) => c.run.startedAt ? Date.parse(c.run.startedAt) : c.scheduledAt)}::bigint[],
        ${column((c) => hex(recentEntry(c.run)))}::text[])
        as i(n, user_id, job_id, scheduled_at, suffix, status, run, counts, started_at, entry)
    ),
    inserted as (
      insert into public.hibiki_runs (user_id, job_id, scheduled_at, suffix, status, run)
      select user_id, job_id, scheduled_at, suffix, status, run from input
      order by user_id, job_id, scheduled_at, suffix
      on conflict do nothing
      returning user_id, job_id, scheduled_at, suffix
    ),
    written as (
      select i.* from input i join inserted using (user_id, job_id, scheduled_at, suffix)
    ),
    jobs as (
      update public.hibiki_jobs j set runs_stored = j.runs_stored + w.runs,
        count = j.count + w.counted,
        last_run_at = greatest(j.last_run_at, w.last_run_at),
        recent = substring(coalesce(j.recent, ''::bytea) || w.entries
          from greatest(1, octet_length(coalesce(j.recent, ''::bytea)) + octet_length(w.entries)
            - ${RECENT_BYTES} + 1))
      from (
        select user_id, job_id, count(*)::int as runs,
          (count(*) filter (where counts))::int as counted,
          max(started_at) filter (where counts) as last_run_at,
          string_agg(decode(entry, 'hex'), ''::bytea order by n) as entries
        from written group by user_id, job_id
      ) w
      where j.user_id = w.user_id and j.id = w.job_id
    )
    select n from written`;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
