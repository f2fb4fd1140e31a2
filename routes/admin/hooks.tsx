/** `/admin/hooks`: inbound endpoints, their events, a payload viewer and replay. */
import { Hono } from "hono";
import { Csrf } from "../../components/field.tsx";
import { formatTime, stateClass } from "../../components/format.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import type { AdminDeps } from "./mod.ts";
import { renderPage } from "./render.tsx";

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
          <p class="hint">
            {t(
              "Endpoints that receive webhooks from other services. Create them with POST /api/hooks.",
            )}
          </p>
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

  app.get("/:id", async (c) => {
    const t = c.get("t");
    const hook = await deps.inbound.get(userOf(c), c.req.param("id"));
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
          <h1>{hook.name}</h1>
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
                      <code>{event.id}</code>
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
        </section>
      ),
    );
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
            <dt>{t("Action")}</dt>
            <dd>
              <span class={stateClass(event.action.state)}>{event.action.state}</span>
            </dd>
          </dl>
          <h2>{t("Headers")}</h2>
          <table class="headers">
            <tbody>
              {Object.entries(event.headers).map(([name, value]) => (
                <tr>
                  <th>{name}</th>
                  <td>
                    <code>{value}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
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
