/**
 * Runs a fire of a Cloud Run job: loads the job's credential, starts the execution with the
 * job's overrides (plus any env a webhook brought), and waits for it to finish within the
 * job's deadline. A fire taken again after a crash first looks for the execution it may
 * already have started, since `jobs:run` has no idempotency key.
 */
import type { Clock } from "../clock.ts";
import type { Job } from "../store/types.ts";
import { CloudRunClient } from "./cloud_run.ts";
import type { CredentialService } from "./credentials.ts";
import { type CloudRunFireResult, runCloudRunFire } from "./run_cloud_run_job.ts";
import { TokenCache } from "./token_cache.ts";

export interface CloudRunRunnerOptions {
  credentials: CredentialService;
  clock: Clock;
  baseUrl: string;
  /** For tests: fewer seconds between polls. */
  pollDelays?: readonly number[];
  retryDelays?: readonly number[];
}

export interface CloudRunFire {
  /** Stable across attempts of the same fire: `${jobId}:${runId}`. */
  fireId: string;
  scheduledAt: number;
  deadlineMs: number;
  retaken: boolean;
  env?: { name: string; value: string }[];
}

export class CloudRunRunner {
  private readonly client: CloudRunClient;

  constructor(private readonly options: CloudRunRunnerOptions) {
    const tokens = new TokenCache({ clock: options.clock });
    this.client = new CloudRunClient({ tokens, clock: options.clock, baseUrl: options.baseUrl });
  }

  async run(job: Job, fire: CloudRunFire): Promise<CloudRunFireResult> {
    const spec = job.cloudRun!;
    let credential;
    try {
      credential = await this.options.credentials.load(job.userId, spec.credentialId);
    } catch (error) {
      return {
        success: false,
        code: 0,
        durationMs: 0,
        execution: null,
        error: {
          category: "invalid",
          message: `Cannot load credential: ${(error as Error).message}`,
        },
      };
    }
    const env = mergeEnv(spec.overrides.env ?? [], fire.env ?? []);
    return await runCloudRunFire({
      client: this.client,
      credential,
      target: { ...spec, overrides: { ...spec.overrides, env } },
      fireId: fire.fireId,
      deadlineMs: fire.deadlineMs,
      checkExisting: fire.retaken,
      firstAttemptAt: fire.scheduledAt,
      clock: this.options.clock,
      pollDelays: this.options.pollDelays,
      retryDelays: this.options.retryDelays,
    });
  }
}

/** The job's env with the fire's extra variables on top (same name: the fire's wins). */
function mergeEnv(
  base: { name: string; value: string }[],
  extra: { name: string; value: string }[],
): { name: string; value: string }[] {
  const names = new Set(extra.map((v) => v.name));
  return [...base.filter((v) => !names.has(v.name)), ...extra];
}
