/** Where a job runs: here and each worker, with its offset, when the worker was last seen and
 * the latest result from there. */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { JobView, Run, Worker } from "../lib/store/types.ts";
import { stateClass } from "./format.ts";
import { PageTime } from "./page_clock.tsx";

export interface JobPlacesProps {
  t: Translate;
  job: JobView;
  /** The job's recent runs, newest first. */
  runs: Run[];
  /** Every worker (only looked up when the job has some). */
  workers: Worker[];
  /** Names of run statuses in the page's language. */
  statusNames: Record<string, string>;
}

export function JobPlaces({ t, job, runs, workers, statusNames }: JobPlacesProps) {
  const latestByWhere = new Map<string, Run>();
  for (const run of runs) {
    if (!latestByWhere.has(run.where)) latestByWhere.set(run.where, run);
  }
  const places = [...(job.local ? ["local"] : []), ...job.workers.map((w) => w.workerId)];
  return (
    <section class="panel" aria-labelledby="where-title">
      <h2 id="where-title">{t("Where it runs")}</h2>
      {places.length === 0
        ? <p class="empty">{t("Nowhere: the job is not run.")}</p>
        : (
          <div class="scroll-x">
            <table>
              <thead>
                <tr>
                  <th>{t("Where")}</th>
                  <th>{t("Offset")}</th>
                  <th>{t("Worker")}</th>
                  <th>{t("Latest result")}</th>
                </tr>
              </thead>
              <tbody>
                {places.map((place) => {
                  const assignment = job.workers.find((w) => w.workerId === place);
                  const worker = workers.find((w) => w.id === place);
                  const run = latestByWhere.get(place);
                  return (
                    <tr>
                      <td>{place === "local" ? t("Here (local)") : place}</td>
                      <td>
                        {assignment
                          ? `${assignment.checkMinute} min ${assignment.checkSecond} s`
                          : "—"}
                      </td>
                      <td>
                        {place === "local" ? "—" : worker
                          ? (
                            <>
                              {worker.is_active ? t("Active") : t("Inactive")}, {t("last seen")}
                              {" "}
                              <PageTime at={worker.last_seen_at} />
                            </>
                          )
                          : t("Unknown worker")}
                      </td>
                      <td>
                        {run
                          ? (
                            <>
                              <span class={stateClass(run.status)}>{statusNames[run.status]}</span>
                              {" "}
                              {run.code > 0 ? run.code : ""} <PageTime at={run.scheduledAt} />
                            </>
                          )
                          : "—"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
