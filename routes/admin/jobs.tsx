/** `/admin/jobs`: new job, job page and its live feed, edit, run now, pause, delete, one run. */
import { Hono } from "hono";
import { formatTime } from "../../components/format.ts";
import { EMPTY_JOB_FORM, type JobFormValues } from "../../components/job_form.tsx";
import { JobFormPage } from "../../components/job_form_page.tsx";
import { jobPath } from "../../components/paths.ts";
import { RunPage } from "../../components/run_page.tsx";
import { runRow } from "../../islands/job_activity.tsx";
import { NotFoundError, ValidationError } from "../../lib/errors.ts";
import { loadJobLive } from "../../lib/jobs/job_live.ts";
import type { JobView } from "../../lib/store/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf, requireConfirmed, splitFormError } from "./context.ts";
import { formValues, jobBody, jobValues } from "./job_form_data.ts";
import { alertDefaultsFor, channelOptions } from "./alerts_form_data.ts";
import { renderJobPage } from "./render_job_page.tsx";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

/** Runs in each answer of the live feed: more than a few seconds bring. */
const LIVE_RUNS = 10;

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
  "graceSeconds",
  "alerts",
]);

export function jobRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;

  const showForm = async (
    c: AdminContext,
    options: { job: JobView | null; values: JobFormValues; error?: ValidationError },
  ) => {
    const t = c.get("t");
    const { job, error } = options;
    const { errors, formError } = splitFormError(error, FORM_FIELDS);
    const title = job ? t("Edit {name}", { name: job.name }) : t("New job");
    const [credentials, channels] = await Promise.all([
      deps.credentials.list(userOf(c)).then((list) =>
        list.map((cred) => ({ id: cred.id, client_email: cred.client_email }))
      ),
      channelOptions(deps, userOf(c)),
    ]);
    return renderPage(
      c,
      deps.assets,
      { title, section: job ? "dashboard" : "new", status: error ? 400 : 200 },
      <JobFormPage
        t={t}
        csrf={c.get("csrf")}
        title={title}
        job={job}
        values={options.values}
        errors={errors}
        formError={formError}
        now={deps.clock.now()}
        credentials={credentials}
        channels={channels}
        fixedTarget={job?.type}
      />,
    );
  };

  app.get("/new", (c) => showForm(c, { job: null, values: EMPTY_JOB_FORM }));
  app.post("/new", async (c) => {
    const values = formValues(await formOf(c));
    try {
      const job = await deps.jobs.create(userOf(c), jobBody(values));
      return c.redirect(jobPath(job.id), 303);
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
  // What the job page's islands refresh themselves with (islands/job_feed.ts).
  app.get("/:id/live.json", async (c) => {
    const live = await loadJobLive(deps, userOf(c), c.req.param("id"), { runs: LIVE_RUNS });
    c.header("Cache-Control", "no-store");
    return c.json({ state: live.state, figures: live.figures, runs: live.runs.map(runRow) });
  });
  app.get("/:id/edit", async (c) => {
    const job = await deps.jobs.get(userOf(c), c.req.param("id"));
    return showForm(c, { job, values: jobValues(job) });
  });
  app.post("/:id/edit", async (c) => {
    const job = await deps.jobs.get(userOf(c), c.req.param("id"));
    const values = { ...formValues(await formOf(c)), target: job.type };
    try {
      const body = jobBody(values, alertDefaultsFor(job, values));
      // The type is fixed when a job is created.
      delete body.type;
      // Unchanged workers keep their offsets: only a new list re-spreads them.
      if (values.workers === jobValues(job).workers) delete body.workers;
      await deps.jobs.update(userOf(c), job.id, body);
      return c.redirect(jobPath(job.id), 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return showForm(c, { job, values, error });
    }
  });
  app.post("/:id/run", async (c) => {
    const { runId } = await deps.jobs.runNow(userOf(c), c.req.param("id"));
    return c.redirect(`${jobPath(c.req.param("id"))}?ran=${encodeURIComponent(runId)}`, 303);
  });
  for (const [action, enabled] of [["pause", false], ["resume", true]] as const) {
    app.post(`/:id/${action}`, async (c) => {
      await deps.jobs.update(userOf(c), c.req.param("id"), { enabled });
      return c.redirect(jobPath(c.req.param("id")), 303);
    });
  }
  app.post("/:id/delete", async (c) => {
    await requireConfirmed(c);
    await deps.jobs.delete(userOf(c), c.req.param("id"));
    return c.redirect("/admin", 303);
  });

  app.get("/:id/runs/:runId", async (c) => {
    const { id, runId } = c.req.param();
    const job = await deps.jobs.get(userOf(c), id);
    const run = await deps.store.getRun(userOf(c), id, runId);
    if (!run) throw new NotFoundError(`Run "${runId}" not found`);
    return renderPage(
      c,
      deps.assets,
      { title: `${job.name} · ${formatTime(run.scheduledAt)}`, section: "dashboard" },
      <RunPage t={c.get("t")} job={job} run={run} />,
    );
  });
  return app;
}
