/**
 * `/admin/maintenance`: maintenance windows: list with where each stands, create, edit, end
 * now, delete.
 */
import { Hono } from "hono";
import { ALERTS_SECTION } from "../../components/alerts_nav.tsx";
import type { MaintenanceFormValues } from "../../components/maintenance_form.tsx";
import { MaintenanceFormPage } from "../../components/maintenance_form_page.tsx";
import { MaintenancePage } from "../../components/maintenance_page.tsx";
import type { MaintenanceView } from "../../lib/alerts/maintenance.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formLists, requireConfirmed, splitFormError } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import {
  emptyWindowForm,
  windowCreateBody,
  windowFormValues,
  windowPatchBody,
  windowValues,
} from "./maintenance_form_data.ts";
import { renderPage } from "./render.tsx";

/** API fields shown beside their part of the form; others go above it. */
const FORM_FIELDS = new Set([
  "name",
  "jobIds",
  "all",
  "start",
  "end",
  "zone",
  "schedule",
  "durationMinutes",
  "timezone",
]);

/** The jobs a form offers and a list names (as the hook form offers them). */
const JOBS_OFFERED = 200;

export function maintenanceRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const section = ALERTS_SECTION;
  const jobsOf = async (c: AdminContext) =>
    (await deps.jobs.list(userOf(c), { limit: JOBS_OFFERED })).values.map((job) => ({
      id: job.id,
      name: job.name,
    }));

  app.get("/", async (c) => {
    const t = c.get("t");
    const [page, jobs] = await Promise.all([
      deps.maintenance.list(userOf(c), { limit: 100, cursor: c.req.query("cursor") || undefined }),
      jobsOf(c),
    ]);
    return renderPage(
      c,
      deps.assets,
      { title: t("Maintenance windows"), section },
      <MaintenancePage
        t={t}
        csrf={c.get("csrf")}
        windows={page.values}
        jobNames={new Map(jobs.map((job) => [job.id, job.name]))}
        cursor={page.cursor}
      />,
    );
  });

  const showForm = async (
    c: AdminContext,
    options: {
      window: MaintenanceView | null;
      values: MaintenanceFormValues;
      version?: string;
      error?: ValidationError;
      status?: 400 | 409;
    },
  ) => {
    const t = c.get("t");
    const { window, error } = options;
    const { errors, formError } = splitFormError(error, FORM_FIELDS);
    const title = window ? t("Edit {name}", { name: window.name }) : t("New maintenance window");
    return renderPage(
      c,
      deps.assets,
      { title, section, status: error ? options.status ?? 400 : 200 },
      <MaintenanceFormPage
        t={t}
        csrf={c.get("csrf")}
        title={title}
        window={window}
        values={options.values}
        version={options.version}
        errors={errors}
        formError={formError}
        jobs={await jobsOf(c)}
        now={deps.clock.now()}
      />,
    );
  };

  /** A refusal the user can act on: a validation error, or a job that is not theirs. */
  const asFormError = (error: unknown): ValidationError | null => {
    if (error instanceof ValidationError) return error;
    if (error instanceof NotFoundError && /^Job /.test(error.message)) {
      return new ValidationError(error.message, "jobIds");
    }
    return null;
  };

  app.get("/new", (c) => {
    const job = c.req.query("job");
    return showForm(c, {
      window: null,
      values: emptyWindowForm(deps.clock.now(), job ? [job] : []),
    });
  });
  app.post("/new", async (c) => {
    const values = windowFormValues(await formLists(c));
    try {
      await deps.maintenance.create(userOf(c), windowCreateBody(values));
      return c.redirect("/admin/maintenance", 303);
    } catch (error) {
      // Too many windows: said above the form, which keeps what was typed.
      if (error instanceof ConflictError) {
        return showForm(c, {
          window: null,
          values,
          error: new ValidationError(error.message),
          status: 409,
        });
      }
      const refusal = asFormError(error);
      if (!refusal) throw error;
      return showForm(c, { window: null, values, error: refusal });
    }
  });
  app.get("/:id/edit", async (c) => {
    const window = await deps.maintenance.get(userOf(c), c.req.param("id"));
    return showForm(c, { window, values: windowValues(window), version: window.updatedAt });
  });
  app.post("/:id/edit", async (c) => {
    const window = await deps.maintenance.get(userOf(c), c.req.param("id"));
    const form = await formLists(c);
    const values = windowFormValues(form);
    const version = form.version?.[0];
    try {
      await deps.maintenance.update(userOf(c), window.id, windowPatchBody(values, window), {
        ifUpdatedAt: version,
      });
      return c.redirect("/admin/maintenance", 303);
    } catch (error) {
      const refusal = asFormError(error);
      if (!refusal) throw error;
      return showForm(c, {
        window,
        values: { ...values, kind: window.schedule === null ? "once" : "recurring" },
        version,
        error: refusal,
      });
    }
  });
  app.post("/:id/end", async (c) => {
    await deps.maintenance.end(userOf(c), c.req.param("id"));
    return c.redirect("/admin/maintenance", 303);
  });
  app.post("/:id/delete", async (c) => {
    const window = await deps.maintenance.get(userOf(c), c.req.param("id"));
    await requireConfirmed(c);
    await deps.maintenance.delete(userOf(c), window.id);
    return c.redirect("/admin/maintenance", 303);
  });
  return app;
}
