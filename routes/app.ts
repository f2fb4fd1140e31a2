/** Builds the HTTP application from its parts. */
import { Hono } from "hono";
import type { Clock } from "../lib/clock.ts";
import type { JobService } from "../lib/jobs/jobs.ts";
import type { Store } from "../lib/store/store.ts";
import { jobRoutes } from "./api/jobs.ts";
import { keyRoutes } from "./api/keys.ts";
import { deliveryRoutes, webhookRoutes } from "./api/webhooks.ts";
import type { WebhookService } from "../lib/webhooks/webhooks.ts";
import type { EdgeService } from "../lib/edge/edge_service.ts";
import type { WorkerStore } from "../lib/store/workers.ts";
import { workerRoutes } from "./api/workers.ts";
import { credentialRoutes } from "./api/credentials.ts";
import { maintenanceRoutes } from "./api/maintenance.ts";
import type { MaintenanceService } from "../lib/alerts/maintenance.ts";
import { channelRoutes } from "./api/channels.ts";
import type { ChannelService } from "../lib/alerts/channel_service.ts";
import { incidentRoutes } from "./api/incidents.ts";
import type { IncidentService } from "../lib/alerts/incidents.ts";
import { statusPageRoutes } from "./api/status_pages.ts";
import type { StatusPageService } from "../lib/status/status_pages.ts";
import type { StatusBoard } from "../lib/status/status_board.ts";
import { publicStatusRoutes } from "./status/mod.ts";
import type { CredentialService } from "../lib/gcp/credentials.ts";
import { edgeRoutes } from "./functions/v1.ts";
import { hookRoutes } from "./hooks.ts";
import { pingRoutes } from "./ping.ts";
import type { PingReceiver } from "../lib/heartbeat/ping_receiver.ts";
import { inboundHookRoutes } from "./api/hooks.ts";
import type { InboundHooks } from "../lib/inbound/inbound_hooks.ts";
import type { InboundReceiver } from "../lib/inbound/inbound_receiver.ts";
import { type HealthDeps, healthRoutes } from "./health.ts";
import { type AuthEnv, bearerAuth } from "./middleware/auth.ts";
import { bodyLimit, dropUnreadBody } from "./middleware/body.ts";
import { errorBody, handleError } from "./middleware/errors.ts";
import { refuseOversizedIds } from "./middleware/ids.ts";
import type { AdminDeps } from "./admin/deps.ts";
import { adminRoutes } from "./admin/mod.ts";
import { sessionOrBearer } from "./admin/api_session.ts";
import { favicon, staticRoutes } from "./admin/static.ts";

const API_BODY_LIMIT = 256 * 1024;

export interface AppDeps extends HealthDeps {
  store: Store;
  jobs: JobService;
  webhooks: WebhookService;
  workers: WorkerStore;
  edge: EdgeService;
  workerApiKey: string | null;
  inbound: InboundHooks;
  inboundReceiver: InboundReceiver;
  /** Heartbeat pings (`/ping/:token`). */
  pings: PingReceiver;
  credentials: CredentialService;
  maintenance: MaintenanceService;
  channels: ChannelService;
  /** Incidents, alert states and uptime (lib/alerts/). */
  incidents: IncidentService;
  /** Owners' status pages (`/api/status-pages`) and the public board (`/status/*`). */
  statusPages: StatusPageService;
  statusBoard: StatusBoard;
  clock: Clock;
  rootApiKey: string | null;
  /** The admin web pages (routes/admin/). */
  admin: AdminDeps;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError(handleError);
  // First, so every route's unread body is dropped after its answer (middleware/body.ts).
  app.use("*", dropUnreadBody());
  app.notFound((c) =>
    c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), 404)
  );
  // A person who opens the bare address is looking for the admin pages.
  app.get("/", (c) => c.redirect("/admin"));
  app.get("/favicon.ico", favicon(deps.admin.assets));
  app.route("/", healthRoutes(deps));
  app.route("/functions/v1", edgeRoutes(deps));
  // Public, outside /api: providers carry no Hibiki key, and each hook has its own body limit.
  app.use("/hooks/*", refuseOversizedIds());
  app.route("/hooks", hookRoutes(deps));
  // Public too: the token is the key. Each ping reads at most its first 10 KiB of body.
  app.route("/ping", pingRoutes(deps));

  const api = new Hono<AuthEnv>();
  // The admin pages' islands call the API with the signed-in session (and a CSRF header).
  api.use(
    "*",
    sessionOrBearer({
      sessions: deps.admin.sessions,
      bearer: bearerAuth({ store: deps.store, rootApiKey: deps.rootApiKey }),
    }),
  );
  // After the key check, so a request without a key is refused before its body is read.
  api.use("*", bodyLimit({ maxBytes: API_BODY_LIMIT }));
  api.use("*", refuseOversizedIds());
  api.route("/jobs", jobRoutes(deps));
  api.route("/keys", keyRoutes(deps));
  api.route("/webhooks", webhookRoutes(deps));
  api.route("/deliveries", deliveryRoutes(deps));
  api.route("/workers", workerRoutes(deps));
  api.route("/hooks", inboundHookRoutes(deps));
  api.route("/credentials", credentialRoutes(deps));
  api.route("/maintenance", maintenanceRoutes(deps));
  api.route("/channels", channelRoutes(deps));
  api.route("/incidents", incidentRoutes(deps));
  api.route("/status-pages", statusPageRoutes(deps));
  app.route("/api", api);
  // Admin web pages: HTML, own error pages and security headers (routes/admin/mod.ts).
  app.route("/admin", adminRoutes(deps.admin));
  app.route("/static", staticRoutes(deps.admin.assets));
  // Public, no sign-in: status pages, their JSON and badges (routes/status/).
  app.route("/status", publicStatusRoutes({ board: deps.statusBoard, assets: deps.admin.assets }));
  return app;
}
