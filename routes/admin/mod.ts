/**
 * The admin web pages under `/admin`: server-rendered, usable without JavaScript, with islands
 * for the live parts. Every page but sign-in needs a session; every POST needs the session's
 * CSRF token and, when the browser sends one, a same-origin `Origin`. This module only mounts:
 * the pages import what they share from deps.ts, context.ts, csrf.ts and render.tsx, never it.
 */
import { Hono } from "hono";
import { ValidationError } from "../../lib/errors.ts";
import { bodyLimit } from "../middleware/body.ts";
import { refuseOversizedIds } from "../middleware/ids.ts";
import { accountRoutes } from "./account.tsx";
import { channelRoutes } from "./channels.tsx";
import type { AdminEnv } from "./context.ts";
import { CREDENTIAL_FORM_LIMIT, credentialRoutes } from "./credentials.tsx";
import { dashboardRoutes } from "./dashboard.tsx";
import type { AdminDeps } from "./deps.ts";
import { adminErrors } from "./errors.tsx";
import { hookEventRoutes } from "./hook_events.tsx";
import { hookRoutes } from "./hooks.tsx";
import { incidentRoutes } from "./incidents.tsx";
import { jobRoutes } from "./jobs.tsx";
import { keyRoutes } from "./keys.tsx";
import { language, languageRoutes } from "./language.ts";
import { loginRoutes } from "./login.tsx";
import { maintenanceRoutes } from "./maintenance.tsx";
import { securityHeaders } from "./security_headers.ts";
import { requireSession } from "./session.ts";
import { userRoutes } from "./users.tsx";
import { webhookRoutes } from "./webhooks.ts";
import { workerRoutes } from "./workers.tsx";

/** Room for a job's 64 KiB body and 8 KiB of headers, percent-encoded, and the rest. */
const FORM_LIMIT = 512 * 1024;

export function adminRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.use("*", securityHeaders());
  app.use("*", language(deps.clock));
  app.onError(adminErrors(deps.assets));
  app.use("*", refuseOversizedIds());
  app.route("/", languageRoutes());
  // Before sign-in and the session check read a form: an endless one is cut off unread.
  app.use("*", bodyLimit({ maxBytes: FORM_LIMIT }));
  app.route("/", loginRoutes(deps));
  app.post(
    "/credentials",
    bodyLimit({
      maxBytes: CREDENTIAL_FORM_LIMIT,
      tooLarge: () =>
        new ValidationError("The key file is too large: a service account key is about 2 KB"),
    }),
  );
  app.use("*", requireSession(deps));
  app.route("/", dashboardRoutes(deps));
  app.route("/jobs", jobRoutes(deps));
  app.route("/jobs", webhookRoutes(deps));
  app.route("/keys", keyRoutes(deps));
  app.route("/workers", workerRoutes(deps));
  app.route("/hooks", hookRoutes(deps));
  app.route("/hooks", hookEventRoutes(deps));
  app.route("/incidents", incidentRoutes(deps));
  app.route("/channels", channelRoutes(deps));
  app.route("/maintenance", maintenanceRoutes(deps));
  app.route("/credentials", credentialRoutes(deps));
  app.route("/users", userRoutes(deps));
  app.route("/account", accountRoutes(deps));
  return app;
}
