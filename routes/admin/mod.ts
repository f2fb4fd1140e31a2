/**
 * The admin web pages under `/admin`: server-rendered, usable without JavaScript, with islands
 * for the live parts. Every page but sign-in needs a session; every POST needs the session's
 * CSRF token and, when the browser sends one, a same-origin `Origin`.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Clock } from "../../lib/clock.ts";
import type { WorkerStore } from "../../lib/store/workers.ts";
import { ForbiddenError, ValidationError } from "../../lib/errors.ts";
import type { CredentialService } from "../../lib/gcp/credentials.ts";
import { pickLanguage, translator } from "../../lib/i18n/i18n.ts";
import type { InboundService } from "../../lib/inbound/inbound_service.ts";
import type { JobSearch } from "../../lib/jobs/dashboard.ts";
import type { JobService } from "../../lib/jobs/jobs.ts";
import type { JobStats } from "../../lib/stats/job_stats.ts";
import type { Store } from "../../lib/store/store.ts";
import type { SessionService } from "../../lib/users/sessions.ts";
import type { UserService } from "../../lib/users/users.ts";
import type { WebhookService } from "../../lib/webhooks/webhooks.ts";
import { secretsEqual } from "../../lib/crypto.ts";
import type { Assets } from "./assets.ts";
import { type AdminEnv, formOf } from "./context.ts";
import { LANG_COOKIE, readCookie, SESSION_COOKIE, writeCookie } from "./cookies.ts";
import { accountRoutes } from "./account.tsx";
import { CREDENTIAL_FORM_LIMIT, credentialRoutes } from "./credentials.tsx";
import { dashboardRoutes } from "./dashboard.tsx";
import { hookRoutes } from "./hooks.tsx";
import { jobRoutes } from "./jobs.tsx";
import { keyRoutes } from "./keys.tsx";
import { loginRoutes } from "./login.tsx";
import { adminErrors } from "./errors.tsx";
import { bodyLimit } from "../middleware/body.ts";
import { refuseOversizedIds } from "../middleware/ids.ts";
import { userRoutes } from "./users.tsx";
import { webhookRoutes } from "./webhooks.tsx";
import { workerRoutes } from "./workers.tsx";

export interface AdminDeps {
  store: Store;
  jobs: JobService;
  search: JobSearch;
  stats: JobStats;
  webhooks: WebhookService;
  workers: WorkerStore;
  inbound: InboundService;
  /** Google service-account keys for Cloud Run jobs (never shown after upload). */
  credentials: CredentialService;
  users: UserService;
  sessions: SessionService;
  clock: Clock;
  assets: Assets;
  /** How often the live tables refresh; by default 5 s on the dashboard, 3 s on a job's page. */
  refreshMs?: number;
}

/** Headers of every admin page and asset: only our own scripts and styles, no framing. */
export const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Room for a job's 64 KiB body and 8 KiB of headers, percent-encoded, and the rest. */
const FORM_LIMIT = 512 * 1024;

export function securityHeaders(): MiddlewareHandler {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    c.header("Content-Security-Policy", ADMIN_CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "same-origin");
  };
}

export function adminRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.use("*", securityHeaders());
  app.use("*", async function language(c, next) {
    const lang = pickLanguage(readCookie(c, LANG_COOKIE), c.req.header("accept-language"));
    c.set("lang", lang);
    c.set("t", translator(lang));
    await next();
  });
  app.onError(adminErrors(deps.assets));
  app.use("*", refuseOversizedIds());

  app.get("/lang", (c) => {
    const to = c.req.query("to") === "ja" ? "ja" : "en";
    writeCookie(c, LANG_COOKIE, to, { maxAgeMs: 365 * 86_400_000 });
    return c.redirect(safeNext(c.req.query("back")), 303);
  });
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
  app.route("/credentials", credentialRoutes(deps));
  app.route("/users", userRoutes(deps));
  app.route("/account", accountRoutes(deps));
  return app;
}

/** Only paths inside the admin pages, never another site (`//evil`, `/\evil`). */
export function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:[/?#]|$)/.test(next) && !/[\\\s]/.test(next) ? next : "/admin";
}

function requireSession(deps: AdminDeps): MiddlewareHandler<AdminEnv> {
  return async function requireSessionMiddleware(c, next) {
    const session = await deps.sessions.resolve(readCookie(c, SESSION_COOKIE));
    const user = session && await deps.users.get(session.userId);
    if (!session || !user) {
      if (c.req.method === "GET" || c.req.method === "HEAD") {
        const url = new URL(c.req.url);
        return c.redirect(`/admin/login?next=${encodeURIComponent(url.pathname + url.search)}`);
      }
      throw new ForbiddenError("Your session has ended: sign in again");
    }
    c.set("session", session);
    c.set("user", user);
    c.set("csrf", session.csrf);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      await checkCsrf(c.req.raw, session.csrf, async () => (await formOf(c))._csrf ?? "");
    }
    return await next();
  };
}

/**
 * A request that changes something must carry the token (form field or `X-CSRF-Token`) and,
 * when the browser says where it comes from, come from this origin.
 */
export async function checkCsrf(
  request: Request,
  expected: string,
  formToken: () => Promise<string>,
): Promise<void> {
  const origin = request.headers.get("origin");
  // Hosts, not origins: behind a TLS-terminating proxy the request URL says http.
  if (origin && origin !== "null" && safeHost(origin) !== new URL(request.url).host) {
    throw new ForbiddenError("Cannot accept a form from another site");
  }
  const sent = request.headers.get("x-csrf-token") ?? await formToken();
  if (!sent || !secretsEqual(sent, expected)) {
    throw new ForbiddenError("The form has expired: reload the page and try again");
  }
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
