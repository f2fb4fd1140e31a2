/** The page around the job form: a new job, or an existing one with its delete box below. */
import type { JobView } from "../lib/store/types.ts";
import { DangerZone } from "./field.tsx";
import { JobForm, type JobFormProps } from "./job_form.tsx";
import { jobPath } from "./paths.ts";

export interface JobFormPageProps extends Omit<JobFormProps, "action" | "jobKey" | "submitLabel"> {
  title: string;
  /** The job being edited, or null for a new one. */
  job: JobView | null;
}

export function JobFormPage({ title, job, ...form }: JobFormPageProps) {
  const { t, csrf } = form;
  return (
    <section class="narrow">
      <h1>{title}</h1>
      <JobForm
        {...form}
        action={job ? `${jobPath(job.id)}/edit` : "/admin/jobs/new"}
        jobKey={job?.id ?? "new"}
        submitLabel={job ? t("Save") : t("Create job")}
      />
      {job && (
        <DangerZone
          action={`${jobPath(job.id)}/delete`}
          csrf={csrf}
          title={t("Delete this job")}
          confirm={t("Also delete its runs and webhook")}
          button={t("Delete job")}
        />
      )}
    </section>
  );
}
