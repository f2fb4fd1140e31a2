/** `/admin/jobs`: new job, job page, edit, run now, pause, delete, one run. */
import { Hono } from "hono";
import { DangerZone, HeadersTable } from "../../components/field.tsx";
import { formatMs, formatTime, stateClass } from "../../components/format.ts";
import { LogLink } from "../../islands/job_activity.tsx";
import { EMPTY_JOB_FORM, JobForm, type JobFormValues } from "../../components/job_form.tsx";
import { NotFoundError, ValidationError } from "../../lib/errors.ts";
import type { JobView } from "../../lib/store/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf, requireConfirmed, splitFormError } from "./context.ts";
import { formValues, jobBody, jobValues } from "./job_form_data.ts";
import { renderJobPage } from "./job_page.tsx";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

/** Form fields that show an API field's message beside them. */
const FORM_FIELDS = new Set([
  "name",
  "url",
  "method",
  "headers",
  "body",
  "timeoutMs",
  "schedule",
  "timezone",
  "expect",
  "workers",
  "cloudRun",
  "type",
]);

export function jobRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const path = (id: string) => `/admin/jobs/${encodeURIComponent(id)}`;

  const showForm = async (
    c: AdminContext,
    options: {
      job: JobView | null;
      values: JobFormValues;
      error?: ValidationError;
    },
  ) => {
    const t = c.get("t");
    const { job, error } = options;
    const { errors, formError } = splitFormError(error, FORM_FIELDS);
    const title = job ? t("Edit {name}", { name: job.name }) : t("New job");
    const credentials = (await deps.credentials.list(userOf(c))).map((cred) => ({
      id: cred.id,
      client_email: cred.client_email,
    }));
    return renderPage(
      c,
      deps.assets,
      {
        title,
        section: job ? "dashboard" : "new",
        status: error ? 400 : 200,
      },
      (
        <section class="narrow">
          <h1>{title}</h1>
          <JobForm
            t={t}
            csrf={c.get("csrf")}
            action={job ? `${path(job.id)}/edit` : "/admin/jobs/new"}
            values={options.values}
            errors={errors}
            formError={formError}
            jobKey={job?.id ?? "new"}
            now={deps.clock.now()}
            submitLabel={job ? t("Save") : t("Create job")}
            credentials={credentials}
            fixedTarget={job?.type}
          />
          {job && (
            <DangerZone
              action={`${path(job.id)}/delete`}
              csrf={c.get("csrf")}
              title={t("Delete this job")}
              confirm={t("Also delete its runs and webhook")}
              button={t("Delete job")}
            />
          )}
        </section>
      ),
    );
  };

  app.get("/new", (c) => showForm(c, { job: null, values: EMPTY_JOB_FORM }));
  app.post("/new", async (c) => {
    const values = formValues(await formOf(c));
    try {
      const job = await deps.jobs.create(userOf(c), jobBody(values));
      return c.redirect(path(job.id), 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return showForm(c, { job: null, values, error });
    }
  });

  app.get("/:id", (c) => {
    const ran = c.req.query("ran");
    const notice = ran && /^[\w.:-]{1,100}$/.test(ran)
      ? c.get("t")("Run {id} started: it appears below when it finishes", { id: ran })
      : null;
    return renderJobPage(c, deps, c.req.param("id"), { notice });
  });
  app.get("/:id/edit", async (c) => {
    const job = await deps.jobs.get(userOf(c), c.req.param("id"));
    return showForm(c, { job, values: jobValues(job) });
  });
  app.post("/:id/edit", async (c) => {
    const job = await deps.jobs.get(userOf(c), c.req.param("id"));
    const values = { ...formValues(await formOf(c)), target: job.type };
    try {
      const body = jobBody(values);
      // The type is fixed when a job is created.
      delete body.type;
      // Unchanged workers keep their offsets: only a new list re-spreads them.
      if (values.workers === jobValues(job).workers) delete body.workers;
      await deps.jobs.update(userOf(c), job.id, body);
      return c.redirect(path(job.id), 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return showForm(c, { job, values, error });
    }
  });
  app.post("/:id/run", async (c) => {
    const { runId } = await deps.jobs.runNow(userOf(c), c.req.param("id"));
    return c.redirect(`${path(c.req.param("id"))}?ran=${encodeURIComponent(runId)}`, 303);
  });
  for (const [action, enabled] of [["pause", false], ["resume", true]] as const) {
    app.post(`/:id/${action}`, async (c) => {
      await deps.jobs.update(userOf(c), c.req.param("id"), { enabled });
      return c.redirect(path(c.req.param("id")), 303);
    });
  }
  app.post("/:id/delete", async (c) => {
    await requireConfirmed(c);
    await deps.jobs.delete(userOf(c), c.req.param("id"));
    return c.redirect("/admin", 303);
  });

  app.get("/:id/runs/:runId", async (c) => {
    const t = c.get("t");
    const { id, runId } = c.req.param();
    const job = await deps.jobs.get(userOf(c), id);
    const run = await deps.store.getRun(userOf(c), id, runId);
    if (!run) throw new NotFoundError(`Run "${runId}" not found`);
    const title = `${job.name} · ${formatTime(run.scheduledAt)}`;
    return renderPage(
      c,
      deps.assets,
      { title, section: "dashboard" },
      (
        <section>
          <p class="crumbs">
            <a href={path(job.id)}>{job.name}</a>
          </p>
          <h1>
            {t("Run")} <code>{run.id}</code>{" "}
            <span class={stateClass(run.status)}>{run.status}</span>
          </h1>
          <dl class="details">
            <dt>{t("Scheduled (UTC)")}</dt>
            <dd>{formatTime(run.scheduledAt)}</dd>
            <dt>{t("Started")}</dt>
            <dd>{formatTime(run.startedAt)}</dd>
            <dt>{t("Finished")}</dt>
            <dd>{formatTime(run.finishedAt)}</dd>
            <dt>{t("Latency")}</dt>
            <dd>{formatMs(run.durationMs)}</dd>
            <dt>{t("Lateness")}</dt>
            <dd>{formatMs(run.lateMs)}</dd>
            <dt>{t("Where")}</dt>
            <dd>{run.where} ({run.trigger})</dd>
            <dt>{t("HTTP status")}</dt>
            <dd>{run.code || "—"}</dd>
            {run.error && (
              <>
                <dt>{t("Error")}</dt>
                <dd class="problem">{run.error.category}: {run.error.message}</dd>
              </>
            )}
            {run.failure && (
              <>
                <dt>{t("Check failed")}</dt>
                <dd class="problem">{run.failure}</dd>
              </>
            )}
            {run.missedCount && (
              <>
                <dt>{t("Missed fires")}</dt>
                <dd>{run.missedCount}</dd>
              </>
            )}
            {run.execution && (
              <>
                <dt>{t("Execution")}</dt>
                <dd>
                  <code data-testid="execution-name">{run.execution.name}</code>{" "}
                  <span class={stateClass(run.execution.status.toLowerCase())}>
                    {run.execution.status}
                  </span>
                </dd>
                <dt>{t("Tasks")}</dt>
                <dd>
                  {t("{ok} succeeded, {failed} failed", {
                    ok: run.execution.succeededCount,
                    failed: run.execution.failedCount,
                  })}
                </dd>
                <dt>{t("Logs")}</dt>
                <dd>
                  <LogLink uri={run.execution.logUri} label={t("Open in Cloud Logging")} />
                </dd>
              </>
            )}
          </dl>
          {run.response && (
            <>
              <h2>{t("Response headers")}</h2>
              <HeadersTable headers={run.response.headers} />
              <h2>{t("Response body")}</h2>
              {run.response.bodyTruncated && (
                <p class="hint">{t("Only the first 16 KiB are kept.")}</p>
              )}
              <pre class="body" data-testid="response-body">{run.response.body}</pre>
            </>
          )}
        </section>
      ),
    );
  });
  return app;
}
