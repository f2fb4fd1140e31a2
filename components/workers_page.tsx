/**
 * `/admin/workers`: probe workers (regions) with when each was last seen; the operator also
 * gets the active switch and the form to add one.
 */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { Worker } from "../lib/store/types.ts";
import { Csrf, TextField } from "./field.tsx";
import { stateClass } from "./format.ts";
import { PageTime } from "./page_clock.tsx";

export interface WorkersPageProps {
  t: Translate;
  csrf: string;
  workers: Worker[];
  /** Only the operator changes workers, which serve every tenant. */
  operator: boolean;
  /** Why the worker id in the form was refused, and the id to fill in again. */
  error?: string;
  id?: string;
}

export function WorkersPage({ t, csrf, workers, operator, error, id }: WorkersPageProps) {
  return (
    <section>
      <h1>{t("Workers")}</h1>
      <p class="hint">
        {t("Probe workers check jobs from other regions and report through the edge API.")}
      </p>
      {workers.length === 0 ? <p class="empty">{t("No workers yet.")}</p> : (
        <div class="scroll-x">
          <table>
            <thead>
              <tr>
                <th>{t("Region")}</th>
                <th>{t("Name")}</th>
                <th>{t("State")}</th>
                <th>{t("Last seen")}</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr>
                  <td>
                    <code>{w.id}</code>
                  </td>
                  <td>{w.name}</td>
                  <td>
                    <span class={stateClass(w.is_active ? "up" : "paused")}>
                      {w.is_active ? t("Active") : t("Inactive")}
                    </span>
                  </td>
                  <td>
                    <PageTime at={w.last_seen_at} />
                  </td>
                  <td>
                    {operator && (
                      <form
                        method="post"
                        action={`/admin/workers/${encodeURIComponent(w.id)}/active`}
                        class="inline"
                      >
                        <Csrf token={csrf} />
                        <input type="hidden" name="active" value={w.is_active ? "0" : "1"} />
                        <button type="submit" class="small">
                          {w.is_active ? t("Deactivate") : t("Activate")}
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {operator && (
        <>
          <h2>{t("Add a worker")}</h2>
          <form method="post" action="/admin/workers" class="narrow">
            <Csrf token={csrf} />
            <TextField
              id="worker-id"
              name="id"
              label={t("Worker id")}
              value={id ?? ""}
              error={error}
              placeholder="aws-tyo1a"
              required
            />
            <button type="submit" class="primary">{t("Add worker")}</button>
          </form>
        </>
      )}
    </section>
  );
}
