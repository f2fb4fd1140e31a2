-- Hibiki's own tables, beside seed 002's. Records are kept whole as json (the domain types of
-- lib/store/types.ts), with the columns queries filter, sort or count on beside them. json,
-- not jsonb: jsonb refuses "\u0000", which the first bytes of a binary answer kept as text
-- (a run's, a delivery attempt's, an inbound event's) may hold; and records are only ever
-- read whole. Times Hibiki computes with are epoch milliseconds (bigint). Every row a
-- compare-and-set guards has a `version` from one sequence, changed on every write.

create sequence if not exists public.hibiki_version;

-- Jobs, their counters and their state in the dashboard's filter (last run: up or down).
create table if not exists public.hibiki_jobs (
  user_id text not null,
  id text not null,
  job json not null,
  enabled boolean not null,
  -- The distinct lower-case words of the name (lib/store/job_words.ts).
  words text[] not null default '{}',
  state text check (state in ('up', 'down')),
  count bigint not null default 0,
  -- Runs kept: executions and missed records, less those pruned.
  runs_stored bigint not null default 0,
  -- When the newest counted run started (epoch ms), 0 when none.
  last_run_at bigint not null default 0,
  primary key (user_id, id)
);
-- Job ids are UUIDs, unique across owners.
create unique index if not exists hibiki_jobs_id on public.hibiki_jobs (id);
create index if not exists hibiki_jobs_state on public.hibiki_jobs (user_id, state, id);
create index if not exists hibiki_jobs_paused on public.hibiki_jobs (user_id, id)
  where not enabled;

-- The dashboard's search by the start of a word of a job's name.
create table if not exists public.hibiki_job_words (
  user_id text not null,
  word text collate "C" not null,
  job_id text not null,
  primary key (user_id, word, job_id)
);

-- The scheduler's due index: a job's first fire time not yet claimed.
create table if not exists public.hibiki_due (
  user_id text not null,
  job_id text not null,
  at bigint not null,
  schedule text not null,
  timezone text not null,
  timeout_ms bigint not null,
  -- Fires come this long after each time the schedule names (a heartbeat job's grace).
  shift_ms bigint not null default 0,
  version bigint not null,
  primary key (user_id, job_id)
);
create index if not exists hibiki_due_at on public.hibiki_due (at);

-- Runs by job and time: the job page's list, retention and the uptime figures.
create table if not exists public.hibiki_runs (
  user_id text not null,
  job_id text not null,
  scheduled_at bigint not null,
  suffix text not null,
  status text not null,
  run json not null,
  primary key (user_id, job_id, scheduled_at, suffix)
);

-- Deleted jobs whose runs and deliveries are still to be removed.
create table if not exists public.hibiki_purges (
  user_id text not null,
  job_id text not null,
  primary key (user_id, job_id)
);

-- The durable lanes (lib/store/lanes.ts): an item waits (`until` = 0) or is leased until
-- `until`; one row per (lane, until, at, id), as a lease names it.
create table if not exists public.hibiki_lane_items (
  lane text not null,
  until bigint not null,
  at bigint not null,
  item_id text not null,
  value json not null,
  version bigint not null,
  primary key (lane, until, at, item_id)
);

create table if not exists public.hibiki_api_keys (
  user_id text not null,
  id text not null,
  hash text not null unique,
  key json not null,
  primary key (user_id, id)
);

-- One webhook per job (seed 003), deleted with it.
create table if not exists public.hibiki_webhooks (
  user_id text not null,
  job_id text not null,
  webhook json not null,
  -- Since when its deliveries have all failed (epoch ms).
  failing_since bigint,
  version bigint not null,
  primary key (user_id, job_id),
  foreign key (user_id, job_id) references public.hibiki_jobs (user_id, id) on delete cascade
);

create table if not exists public.hibiki_deliveries (
  id text primary key,
  user_id text not null,
  job_id text not null,
  created_at bigint not null,
  delivery json not null,
  version bigint not null
);
create index if not exists hibiki_deliveries_job
  on public.hibiki_deliveries (user_id, job_id, created_at desc, id desc);

-- Rolling 24-hour statistics of a job.
create table if not exists public.hibiki_job_stats (
  user_id text not null,
  job_id text not null,
  record json not null,
  primary key (user_id, job_id)
);

create table if not exists public.hibiki_credentials (
  user_id text not null,
  id text not null,
  credential json not null,
  primary key (user_id, id)
);

create table if not exists public.hibiki_users (
  id text primary key,
  "user" json not null
);

create table if not exists public.hibiki_sessions (
  id text primary key,
  user_id text not null,
  session json not null,
  expires_at bigint not null
);
create index if not exists hibiki_sessions_user on public.hibiki_sessions (user_id);
create index if not exists hibiki_sessions_expires on public.hibiki_sessions (expires_at);

create table if not exists public.hibiki_login_failures (
  name text primary key,
  count bigint not null,
  last_at bigint not null,
  expires_at bigint not null
);

create table if not exists public.hibiki_channels (
  user_id text not null,
  id text not null,
  channel json not null,
  primary key (user_id, id)
);

-- Status pages: the slug is unique across owners (the public URL /status/:slug).
create table if not exists public.hibiki_status_pages (
  user_id text not null,
  id text not null,
  slug text not null unique,
  page json not null,
  primary key (user_id, id)
);

create table if not exists public.hibiki_maintenance (
  user_id text not null,
  id text not null,
  "window" json not null,
  -- The instant from which it covers nothing (lib/store/maintenance.ts `coverageUntil`).
  covers_until bigint not null,
  primary key (user_id, id)
);
create index if not exists hibiki_maintenance_until on public.hibiki_maintenance (covers_until);

create table if not exists public.hibiki_maintenance_cuts (
  at bigint not null,
  user_id text not null,
  window_id text not null,
  nonce text not null,
  cut json not null,
  primary key (at, user_id, window_id, nonce)
);

-- Alerting (lib/store/alerts.ts): a job's alert state, changed by compare-and-set on its
-- version (removed with the job); incidents and notifications. A decision's decide items are
-- items of the `alert` lane, a notification's due entry a waiting item of the `notification`
-- lane. Incident ids start with the time they opened ("C" order: newest last).
create table if not exists public.hibiki_alert_states (
  user_id text not null,
  job_id text not null,
  state json not null,
  version bigint not null,
  primary key (user_id, job_id)
);

create table if not exists public.hibiki_incidents (
  user_id text not null,
  id text collate "C" not null,
  job_id text not null,
  state text not null check (state in ('open', 'resolved')),
  started_at bigint not null,
  -- Null while open.
  ended_at bigint,
  incident json not null,
  version bigint not null,
  primary key (user_id, id)
);
create index if not exists hibiki_incidents_state on public.hibiki_incidents (user_id, state, id);
create index if not exists hibiki_incidents_job on public.hibiki_incidents (user_id, job_id, id);
-- `/metrics` counts the open ones across owners.
create index if not exists hibiki_incidents_open on public.hibiki_incidents (id)
  where state = 'open';
-- Uptime: a job's incidents that end after the range's start (open ones never end).
create index if not exists hibiki_incidents_job_end on public.hibiki_incidents
  (user_id, job_id, (coalesce(ended_at, 9223372036854775807)));

create table if not exists public.hibiki_notifications (
  id text primary key,
  user_id text not null,
  notification json not null,
  -- Where its due entry waits (the `notification` lane's item), null when none.
  next_attempt_at bigint,
  version bigint not null,
  -- A certificate warning's job (it belongs to no incident), for the purge of a deleted job.
  job_id text
);
create index if not exists hibiki_notifications_job on public.hibiki_notifications (user_id, job_id)
  where job_id is not null;

-- Inbound webhooks (seed 001): hooks with their counters, events with their bodies, and the
-- provider delivery ids seen. Events and delivery ids carry when they expire (epoch ms); the
-- store deletes expired ones in batches as new events arrive. No foreign keys: a deleted
-- hook's events go in batches after it, not in one long delete.
create table if not exists public.hibiki_inbound_hooks (
  id text primary key,
  user_id text not null,
  hook json not null,
  -- Requests stored and refused.
  received bigint not null default 0,
  rejected bigint not null default 0
);
create index if not exists hibiki_inbound_hooks_user on public.hibiki_inbound_hooks (user_id, id);

create table if not exists public.hibiki_inbound_events (
  hook_id text not null,
  id text not null,
  event json not null,
  -- The whole body; null when it is kept only as the event's own text (`bodyChunks` = 0).
  body bytea,
  expires_at bigint not null,
  version bigint not null,
  primary key (hook_id, id)
);
create index if not exists hibiki_inbound_events_expires
  on public.hibiki_inbound_events (expires_at);

create table if not exists public.hibiki_inbound_seen (
  hook_id text not null,
  delivery_id text not null,
  -- '' for the first event under the delivery id; another body's SHA-256 for a conflict.
  other_sha256 text not null,
  event_id text not null,
  body_sha256 text not null,
  expires_at bigint not null,
  primary key (hook_id, delivery_id, other_sha256)
);
create index if not exists hibiki_inbound_seen_expires on public.hibiki_inbound_seen (expires_at);

-- Heartbeat jobs (lib/store/heartbeats.ts): a ping token's SHA-256 → its job, written in the
-- job's own transaction; a job's pending `/start` (epoch ms). A ping written on facts read
-- earlier checks their versions (a row's absence too) in its run's transaction.
create table if not exists public.hibiki_ping_tokens (
  token_hash text primary key,
  user_id text not null,
  job_id text not null,
  enabled boolean not null,
  version bigint not null
);

create table if not exists public.hibiki_ping_starts (
  user_id text not null,
  job_id text not null,
  at bigint not null,
  version bigint not null,
  primary key (user_id, job_id)
);

-- Applied migrations of this folder (`supabase db push` keeps its own list as well).
create table if not exists public.hibiki_schema_migrations (
  version text primary key,
  name text not null,
  applied_at timestamptz not null default now()
);

do $$
declare t text;
begin
  foreach t in array array[
    'hibiki_jobs', 'hibiki_job_words', 'hibiki_due', 'hibiki_runs', 'hibiki_purges',
    'hibiki_lane_items', 'hibiki_api_keys', 'hibiki_webhooks', 'hibiki_deliveries',
    'hibiki_job_stats', 'hibiki_credentials', 'hibiki_users', 'hibiki_sessions',
    'hibiki_login_failures', 'hibiki_channels', 'hibiki_maintenance',
    'hibiki_maintenance_cuts', 'hibiki_inbound_hooks', 'hibiki_inbound_events',
    'hibiki_inbound_seen', 'hibiki_alert_states', 'hibiki_incidents',
    'hibiki_notifications', 'hibiki_status_pages', 'hibiki_ping_tokens',
    'hibiki_ping_starts', 'hibiki_schema_migrations'
  ] loop
    execute format('alter table public.%I enable row level security', t);
  end loop;
end $$;
