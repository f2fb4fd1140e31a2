/** What the admin pages are built from: the services they call, handed in by the app. */
import type { ChannelService } from "../../lib/alerts/channel_service.ts";
import type { IncidentService } from "../../lib/alerts/incidents.ts";
import type { MaintenanceService } from "../../lib/alerts/maintenance.ts";
import type { Clock } from "../../lib/clock.ts";
import type { WorkerStore } from "../../lib/store/workers.ts";
import type { CredentialService } from "../../lib/gcp/credentials.ts";
import type { InboundHooks } from "../../lib/inbound/inbound_hooks.ts";
import type { JobSearch } from "../../lib/jobs/dashboard.ts";
import type { JobService } from "../../lib/jobs/jobs.ts";
import type { JobStats } from "../../lib/stats/job_stats.ts";
import type { Store } from "../../lib/store/store.ts";
import type { SessionService } from "../../lib/users/sessions.ts";
import type { UserService } from "../../lib/users/users.ts";
import type { WebhookService } from "../../lib/webhooks/webhooks.ts";
import type { Assets } from "./assets.ts";

export interface AdminDeps {
  store: Store;
  jobs: JobService;
  search: JobSearch;
  stats: JobStats;
  webhooks: WebhookService;
  workers: WorkerStore;
  inbound: InboundHooks;
  /** Google service-account keys for Cloud Run jobs (never shown after upload). */
  credentials: CredentialService;
  /** Notification channels and maintenance windows (the Alerts pages). */
  channels: ChannelService;
  maintenance: MaintenanceService;
  /** Incidents, a job's alert state and uptime (the Incidents page, the job page). */
  incidents: IncidentService;
  users: UserService;
  sessions: SessionService;
  clock: Clock;
  assets: Assets;
  /** How often the live tables refresh; by default 5 s on the dashboard, 3 s on a job's page. */
  refreshMs?: number;
}
