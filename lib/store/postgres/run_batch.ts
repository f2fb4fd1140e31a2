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
 *
 * Decisions made ahead (`RunCompletion.decided`) go in the same statement as the runs: each
 * job's first run written with one carries it when it writes the state alone (as nearly all
 * do), checked against the state's version it was made on; the shown state moves with the
 * job's counters. Every other written run (its decision stale, with an incident or
 * notifications, or a second of its job) goes with its decide item, decided after as ever.
 * Before, every run went with its item and cost a decision of its own after the commit
 * (bench edge on Postgres, quick, median of 3: results stored as runs ~6,000/s → ~8,600/s,
 * about half of its runs carrying their decisions; the rest are second results of an interval
 * decided already).
 */
import { RECENT_ENTRY_BYTES, RECENT_MAX, recentEntry } from "../recent_results.ts";
import type { DecidedAhead } from "../alert_items.ts";
import type { OutboxDelivery, RunCompletion } from "../store.ts";
import { addDecides, stateOnly } from "./alerts.ts";
import { writeOutboxes } from "./outbox.ts";
import { releaseLeases, type Tx } from "./util.ts";

/** The bytes of the latest results kept: the ring's capacity. */
const RECENT_BYTES = RECENT_MAX * RECENT_ENTRY_BYTES;

/** What `writeRuns` wrote: each run, and the state's version each decision carried got. */
export interface RunsWritten {
  /** Whether each run was written (false: it existed, or repeats). */
  written: boolean[];
  /** The state's new version where a run carried its decision made ahead, else null. */
  decided: (string | null)[];
}

/** Writes the runs in `tx`; the caller marks the decisions carried once `tx` commits. */
export async function writeRuns(
  tx: Tx,
  completions: readonly RunCompletion[],
): Promise<RunsWritten> {
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
  // Sent together (one round trip): the locks, then the runs with their decisions.
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
  const decided = completions.map((): string | null => null);
  for (const row of rows) {
    written[row.n as number] = true;
    if (row.version !== null) decided[row.n as number] = String(row.version);
  }
  // The state is decided from these, at once by this process or by the alert lane.
  const decides = completions.flatMap((c, n) =>
    written[n] && decided[n] === null && c.decide ? [c.decide] : []
  );
  const outbox: OutboxDelivery[] = completions.flatMap((c, n) => written[n] ? c.outbox ?? [] : []);
  await Promise.all([addDecides(tx, decides), writeOutboxes(tx, outbox)]);
  return { written, decided };
}

/** Whether the batch's statement can carry a decision: one writing the state alone. */
function carried(ahead: DecidedAhead | undefined): ahead is DecidedAhead {
  return ahead !== undefined && stateOnly(ahead.decision) && ahead.decision.settle.length === 0;
}

/**
 * Inserts the runs that do not exist yet and adds them to their jobs' counters and latest
 * results, each job's decision with them (see the module's comment); the rows name (`n`) the
 * runs written, with the state's new `version` where one carried its decision.
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
        ${column((c) => hex(recentEntry(c.run)))}::text[],
        ${column((c) => c.decided !== undefined)}::boolean[],
        ${column((c) => carried(c.decided) ? JSON.stringify(c.decided.decision.next) : null)}
          ::text[]::json[],
        ${column((c) => c.decided ? versionOf(c.decided) : null)}::bigint[],
        ${column((c) => c.decided ? shownOf(c.decided) : null)}::text[])
        as i(n, user_id, job_id, scheduled_at, suffix, status, run, counts, started_at, entry,
          decided, state, old_version, shown)
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
    -- A job's first run written with a decision is the one that may carry it: a second,
    -- decided on the same read, would count one of the two runs only.
    chosen as (
      select distinct on (user_id, job_id) n, user_id, job_id, state, old_version, shown
      from written where decided order by user_id, job_id, n
    ),
    updated as (
      update public.hibiki_alert_states a set state = c.state,
        version = nextval('public.hibiki_version')
      from chosen c
      where c.state is not null and c.old_version is not null
        and a.user_id = c.user_id and a.job_id = c.job_id and a.version = c.old_version
      returning c.n, a.version, c.user_id, c.job_id, c.shown
    ),
    created as (
      insert into public.hibiki_alert_states (user_id, job_id, state, version)
      select user_id, job_id, state, nextval('public.hibiki_version') from chosen
      where state is not null and old_version is null
      order by user_id, job_id
      on conflict do nothing
      returning user_id, job_id, version
    ),
    applied as (
      select n, version, user_id, job_id, shown from updated
      union all
      select c.n, k.version, c.user_id, c.job_id, c.shown
      from created k join chosen c using (user_id, job_id)
    ),
    jobs as (
      update public.hibiki_jobs j set runs_stored = j.runs_stored + w.runs,
        count = j.count + w.counted,
        last_run_at = greatest(j.last_run_at, w.last_run_at),
        recent = substring(coalesce(j.recent, ''::bytea) || w.entries
          from greatest(1, octet_length(coalesce(j.recent, ''::bytea)) + octet_length(w.entries)
            - ${RECENT_BYTES} + 1)),
        -- The dashboard's state filter and counts read it beside enabled (hibiki_jobs_shown).
        alert_state = coalesce(d.shown, j.alert_state)
      from (
        select user_id, job_id, count(*)::int as runs,
          (count(*) filter (where counts))::int as counted,
          max(started_at) filter (where counts) as last_run_at,
          string_agg(decode(entry, 'hex'), ''::bytea order by n) as entries
        from written group by user_id, job_id
      ) w
      left join applied d on d.user_id = w.user_id and d.job_id = w.job_id
      where j.user_id = w.user_id and j.id = w.job_id
    )
    select w.n, d.version from written w left join applied d using (n)`;
}

/** The state's version a decision was made on, null when none was stored. */
function versionOf(ahead: DecidedAhead): number | null {
  const { version } = ahead.decision.current;
  return version === null ? null : Number(version);
}

/** The state the dashboard shows once the decision is written, null when it stays. */
function shownOf(ahead: DecidedAhead): string | null {
  const { current, next } = ahead.decision;
  return current.state?.state !== next.state ? next.state : null;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
