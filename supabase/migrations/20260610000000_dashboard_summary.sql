-- The dashboard (issue 13): each job's latest results, kept with its runs, and the state the
-- dashboard shows, which is now the alert state (moved where alerting decides it) instead of
-- the last run's outcome.

-- The latest results, packed (lib/store/recent_results.ts): 9 bytes each, at most 50,
-- appended by `recordRun` in its own update of the job.
alter table public.hibiki_jobs add column if not exists recent bytea;

-- The job's alert state (`hibiki_alert_states.state->>'state'`), written with each decision;
-- the dashboard shows a disabled job as paused whatever it says.
alter table public.hibiki_jobs add column if not exists alert_state text not null
  default 'pending';
update public.hibiki_jobs j set alert_state = a.state->>'state'
  from public.hibiki_alert_states a
  where a.user_id = j.user_id and a.job_id = j.id and a.state->>'state' is not null;
create index if not exists hibiki_jobs_shown on public.hibiki_jobs
  (user_id, (case when enabled then alert_state else 'paused' end), id);

-- The last run's up/down state is no longer kept.
drop index if exists public.hibiki_jobs_state;
alter table public.hibiki_jobs drop column if exists state;
