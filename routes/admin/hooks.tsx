/**
 * `/admin/hooks`: inbound endpoints: create, edit and delete them (a secret Hibiki makes is
 * shown once, in the answer to the form), their events, a payload viewer and replay.
 */
import { Hono } from "hono";
import { Csrf, DangerZone, HeadersTable } from "../../components/field.tsx";
import { formatTime, stateClass } from "../../components/format.ts";
import { EMPTY_HOOK_FORM, HookForm, type HookFormValues } from "../../components/hook_form.tsx";
import { Flash } from "../../components/layout.tsx";
import { NotFoundError, ValidationError } from "../../lib/errors.ts";
import type { HookView } from "../../lib/inbound/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf, requireConfirmed, splitFormError } from "./context.ts";
import { hookCreateBody, hookFormValues, hookPatchBody, hookValues } from "./hook_form_data.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

/** API fields shown beside their part of the form; others go above it. */
const FORM_FIELDS = new Set(["name", "verification", "action"]);

/** Secrets Hibiki just made, shown in the answer to the form and never again. */
interface NewSecrets {
  verification?: string;
  relay?: string;
}

export function hookRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const hookPath = (id: string) => `/admin/hooks/${encodeURIComponent(id)}`;

  app.get("/", async (c) => {
    const t = c.get("t");
    const hooks = await deps.inbound.list(userOf(c), { limit: 100 });
    const origin = new URL(c.req.url).origin;
    return renderPage(
      c,
      deps.assets,
      { title: t("Inbound hooks"), section: "hooks" },
      (
        <section>
          <h1>{t("Inbound hooks")}</h1>
          <div class="heading">
            <p class="hint">
              {t("Endpoints that receive webhooks from other services.")}
            </p>
            <div class="actions">
              <a class="button primary" href="/admin/hooks/new">{t("New hook")}</a>
            </div>
          </div>
          {hooks.values.length === 0 ? <p class="empty">{t("No hooks yet.")}</p> : (
            <table>
              <thead>
                <tr>
                  <th>{t("Name")}</th>
                  <th>{t("URL")}</th>
                  <th>{t("Verification")}</th>
                  <th>{t("Action")}</th>
                  <th class="num">{t("Received")}</th>
                  <th class="num">{t("Refused")}</th>
                </tr>
              </thead>
              <tbody>
                {hooks.values.map((hook) => (
                  <tr>
                    <td>
                      <a href={hookPath(hook.id)}>{hook.name}</a>
                      {!hook.enabled && <small>{t("Disabled")}</small>}
                    </td>
                    <td>
                      <code>{origin}{hook.path}</code>
                    </td>
                    <td>{hook.verification.mode}</td>
                    <td>{hook.action.type}</td>
                    <td class="num">{hook.received}</td>
                    <td class="num">{hook.rejected}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ),
    );
  });

  const showHook = async (
    c: AdminContext,
    hook: HookView,
    secrets: NewSecrets = {},
    notice?: string,
  ) => {
    const t = c.get("t");
    const origin = new URL(c.req.url).origin;
    const action = hook.action;
    const events = await deps.inbound.listEvents(userOf(c), hook.id, {
      limit: 50,
      cursor: c.req.query("cursor") || undefined,
    });
    return renderPage(
      c,
      deps.assets,
      { title: hook.name, section: "hooks" },
      (
        <section>
          <p class="crumbs">
            <a href="/admin/hooks">{t("Inbound hooks")}</a>
          </p>
          <div class="heading">
            <h1>
              {hook.name}{" "}
              {!hook.enabled && <span class={stateClass("paused")}>{t("Disabled")}</span>}
            </h1>
            <div class="actions">
              <a class="button" href={`${hookPath(hook.id)}/edit`}>{t("Edit")}</a>
            </div>
          </div>
          {notice && <Flash kind="ok">{notice}</Flash>}
          {(secrets.verification || secrets.relay) && (
            <Flash kind="ok">
              <p>{t("New secrets are shown only this once: copy them now.")}</p>
              {secrets.verification && (
                <p>
                  {t("Verification secret")}:{" "}
                  <code class="secret" data-testid="new-verification-secret">
                    {secrets.verification}
                  </code>
                </p>
              )}
              {secrets.relay && (
                <p>
                  {t("Relay signing secret")}:{" "}
                  <code class="secret" data-testid="new-relay-secret">{secrets.relay}</code>
                </p>
              )}
            </Flash>
          )}
          <dl class="details">
            <dt>{t("URL")}</dt>
            <dd>
              <code data-testid="hook-url">{origin}{hook.path}</code>
            </dd>
            <dt>{t("Verification")}</dt>
            <dd>
              <code>{hook.verification.mode}</code>
              {"header" in hook.verification && <>{" "}{hook.verification.header}</>}
              {hook.verification.secret && !secrets.verification && (
                <>
                  {" "}
                  <code data-testid="masked-secret">{hook.verification.secret}</code>
                </>
              )}
            </dd>
            <dt>{t("Challenge")}</dt>
            <dd>{hook.challenge ? t("Answered") : t("Not answered")}</dd>
            <dt>{t("Action")}</dt>
            <dd>
              <code>{action.type}</code> {action.type === "relay" && <code>{action.url}</code>}
              {action.type === "run" && (
                <a href={`/admin/jobs/${encodeURIComponent(action.jobId)}`}>{action.jobId}</a>
              )}
            </dd>
          </dl>
          <h2>{t("Events")}</h2>
          {events.values.length === 0 ? <p class="empty">{t("No events yet.")}</p> : (
            <table>
              <thead>
                <tr>
                  <th>{t("Received")}</th>
                  <th>{t("Event")}</th>
                  <th>{t("Content type")}</th>
                  <th class="num">{t("Size")}</th>
                  <th>{t("Action")}</th>
                </tr>
              </thead>
              <tbody>
                {events.values.map((event) => (
                  <tr>
                    <td>
                      <a href={`${hookPath(hook.id)}/events/${encodeURIComponent(event.id)}`}>
                        {formatTime(event.receivedAt)}
                      </a>
                    </td>
                    <td>
                      <code>{event.id}</code>{" "}
                      {event.conflictOf && (
                        <span class={stateClass("conflict")}>{t("conflict")}</span>
                      )}
                    </td>
                    <td>{event.contentType ?? "—"}</td>
                    <td class="num">{event.bodySize}</td>
                    <td>
                      <span class={stateClass(event.action.state)}>{event.action.state}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {events.cursor && (
            <nav class="pager">
              <a
                href={`${hookPath(hook.id)}?cursor=${encodeURIComponent(events.cursor)}`}
                rel="next"
              >
                {t("Next page")}
              </a>
            </nav>
          )}
          <DangerZone
            action={`${hookPath(hook.id)}/delete`}
            csrf={c.get("csrf")}
            title={t("Delete this hook")}
            confirm={t("Also delete its events; senders get 404 from now on")}
            button={t("Delete hook")}
          />
        </section>
      ),
    );
  };

  const showForm = async (
    c: AdminContext,
    options: { hook: HookView | null; values: HookFormValues; error?: ValidationError },
  ) => {
    const t = c.get("t");
    const { hook, error } = options;
    const { errors, formError } = splitFormError(error, FORM_FIELDS);
    const jobs = (await deps.jobs.list(userOf(c), { limit: 200 })).values.map((j) => ({
      id: j.id,
      name: j.name,
    }));
    const title = hook ? t("Edit {name}", { name: hook.name }) : t("New hook");
    return renderPage(
      c,
      deps.assets,
      { title, section: "hooks", status: error ? 400 : 200 },
      (
        <section class="narrow">
          <p class="crumbs">
            <a href={hook ? hookPath(hook.id) : "/admin/hooks"}>
              {hook ? hook.name : t("Inbound hooks")}
            </a>
          </p>
          <h1>{title}</h1>
          <HookForm
            t={t}
            csrf={c.get("csrf")}
            action={hook ? `${hookPath(hook.id)}/edit` : "/admin/hooks/new"}
            values={options.values}
            errors={errors}
            formError={formError}
            jobs={jobs}
            editing={hook !== null}
            submitLabel={hook ? t("Save") : t("Create hook")}
          />
        </section>
      ),
    );
  };

  /** A refusal the user can act on: a validation error, or the job to run not found. */
  const asFormError = (error: unknown, values: HookFormValues): ValidationError | null => {
    if (error instanceof ValidationError) return error;
    if (error instanceof NotFoundError && values.actionType === "run") {
      return new ValidationError(error.message, "action");
    }
    return null;
  };

  app.get("/new", (c) => showForm(c, { hook: null, values: EMPTY_HOOK_FORM }));
  app.post("/new", async (c) => {
    const values = hookFormValues(await formOf(c));
    try {
      const hook = await deps.inbound.create(userOf(c), hookCreateBody(values));
      return showHook(c, hook, {
        verification: values.mode !== "none" && values.secret === ""
          ? hook.verification.secret
          : undefined,
        relay: hook.action.secret,
      }, c.get("t")("Hook created. Send requests to its URL."));
    } catch (error) {
      const refusal = asFormError(error, values);
      if (!refusal) throw error;
      return showForm(c, { hook: null, values: { ...values, secret: "" }, error: refusal });
    }
  });
  app.get("/:id", async (c) => showHook(c, await deps.inbound.get(userOf(c), c.req.param("id"))));
  app.get("/:id/edit", async (c) => {
    const hook = await deps.inbound.get(userOf(c), c.req.param("id"));
    return showForm(c, { hook, values: hookValues(hook) });
  });
  app.post("/:id/edit", async (c) => {
    const current = await deps.inbound.get(userOf(c), c.req.param("id"));
    const values = hookFormValues(await formOf(c));
    try {
      const body = hookPatchBody(values, current);
      const hook = await deps.inbound.update(userOf(c), current.id, body);
      const madeSecret = body.verification !== undefined && values.mode !== "none" &&
        values.secret === "";
      return showHook(c, hook, {
        verification: madeSecret ? hook.verification.secret : undefined,
        relay: current.action.type !== "relay" ? hook.action.secret : undefined,
      }, c.get("t")("Hook saved."));
    } catch (error) {
      const refusal = asFormError(error, values);
      if (!refusal) throw error;
      return showForm(c, { hook: current, values: { ...values, secret: "" }, error: refusal });
    }
  });
  app.post("/:id/delete", async (c) => {
    const hook = await deps.inbound.get(userOf(c), c.req.param("id"));
    await requireConfirmed(c);
    await deps.inbound.delete(userOf(c), hook.id);
    return c.redirect("/admin/hooks", 303);
  });

  app.get("/:id/events/:eventId", async (c) => {
    const t = c.get("t");
    const { id, eventId } = c.req.param();
    const event = await deps.inbound.getEvent(userOf(c), id, eventId);
    return renderPage(
      c,
      deps.assets,
      { title: event.id, section: "hooks" },
      (
        <section>
          <p class="crumbs">
            <a href={hookPath(id)}>{t("Events")}</a>
          </p>
          <h1>
            {t("Event")} <code>{event.id}</code>
          </h1>
          <form
            method="post"
            action={`${hookPath(id)}/events/${encodeURIComponent(event.id)}/replay`}
          >
            <Csrf token={c.get("csrf")} />
            <button type="submit" class="primary">{t("Replay")}</button>
          </form>
          <dl class="details">
            <dt>{t("Received")}</dt>
            <dd>{formatTime(event.receivedAt)}</dd>
            <dt>{t("Verification")}</dt>
            <dd>{event.verification.mode} ({event.verification.verified ? "✓" : "—"})</dd>
            {event.conflictOf && (
              <>
                <dt>{t("Conflicts with")}</dt>
                <dd>
                  <span class={stateClass("conflict")}>{t("conflict")}</span>{" "}
                  <a href={`${hookPath(id)}/events/${encodeURIComponent(event.conflictOf)}`}>
                    <code>{event.conflictOf}</code>
                  </a>{" "}
                  {t(
                    "came first with the same delivery id and another body; replay to run this one",
                  )}
                </dd>
              </>
            )}
            <dt>{t("Action")}</dt>
            <dd>
              <span class={stateClass(event.action.state)}>{event.action.state}</span>
            </dd>
          </dl>
          <h2>{t("Headers")}</h2>
          <HeadersTable headers={event.headers} />
          <h2>{t("Payload")}</h2>
          {event.bodyTruncated && (
            <p class="hint">{t("Only the first part of the body is shown.")}</p>
          )}
          <pre class="body">{pretty(event.body, event.contentType)}</pre>
          <h2>{t("Attempts")}</h2>
          <table>
            <tbody>
              {event.action.attempts.map((a) => (
                <tr>
                  <td>{a.n}</td>
                  <td>{formatTime(a.at)}</td>
                  <td>
                    <span class={stateClass(a.success ? "success" : "failure")}>{a.type}</span>
                  </td>
                  <td class="problem">{a.error ?? a.detail ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ),
    );
  });

  app.post("/:id/events/:eventId/replay", async (c) => {
    const { id, eventId } = c.req.param();
    await deps.inbound.replay(userOf(c), id, eventId);
    return c.redirect(`${hookPath(id)}/events/${encodeURIComponent(eventId)}`, 303);
  });
  return app;
}

/** JSON bodies indented for reading; anything else as it came. */
function pretty(body: string, contentType: string | null): string {
  if (!contentType?.includes("json")) return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
