/**
 * A job's Cloud Run target as the API takes it: `cloudRun: { project, region, job,
 * credentialId, overrides }`, each part falling back to the seed's environment variables
 * (`GCP_PROJECT_ID`, `GCP_REGION`, `GCP_JOB_NAME`, and the `env` credential from
 * `GCP_SERVICE_ACCOUNT`). Resolved when the job is saved, so what runs is what was shown.
 */
import { ValidationError } from "../errors.ts";
import type { CloudRunSpec } from "../store/types.ts";
import { type CloudRunTarget, parseCloudRunTarget } from "./run_cloud_run_job.ts";

/** Declared with the job it belongs to; a parsed target plus its credential is one. */
export type { CloudRunSpec };

export interface CloudRunDefaults {
  project: string | null;
  region: string | null;
  job: string | null;
  /** `env` when GCP_SERVICE_ACCOUNT is set, for the operator. */
  credentialId: string | null;
}

export function resolveCloudRunSpec(input: unknown, defaults: CloudRunDefaults): CloudRunSpec {
  if (
    input !== undefined && (typeof input !== "object" || input === null || Array.isArray(input))
  ) {
    throw new ValidationError("cloudRun must be an object", "cloudRun");
  }
  const { credentialId, ...rest } = (input ?? {}) as Record<string, unknown>;
  const merged = {
    project: rest.project ?? defaults.project ?? undefined,
    region: rest.region ?? defaults.region ?? undefined,
    job: rest.job ?? defaults.job ?? undefined,
    ...(rest.overrides === undefined ? {} : { overrides: rest.overrides }),
    ...Object.fromEntries(
      Object.entries(rest).filter(([k]) => !["project", "region", "job", "overrides"].includes(k)),
    ),
  };
  for (const part of ["project", "region", "job"] as const) {
    if (merged[part] === undefined) {
      throw new ValidationError(
        `cloudRun.${part} is required (or set GCP_${
          part === "job" ? "JOB_NAME" : part === "project" ? "PROJECT_ID" : "REGION"
        })`,
        "cloudRun",
      );
    }
  }
  const target = parseCloudRunTarget(merged, { at: "cloudRun" });
  const credential = credentialId ?? defaults.credentialId;
  if (typeof credential !== "string" || credential === "") {
    throw new ValidationError(
      "cloudRun.credentialId is required (add a key with POST /api/credentials)",
      "cloudRun",
    );
  }
  return { ...target, credentialId: credential };
}

/** The URL shown for a Cloud Run job (its Admin API resource). */
export function cloudRunUrl(spec: CloudRunTarget, baseUrl: string): string {
  return `${baseUrl}/v2/projects/${spec.project}/locations/${spec.region}/jobs/${spec.job}`;
}
