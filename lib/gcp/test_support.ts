/** Wiring for tests of `lib/gcp`: the fake Google, a registered key, a token cache, a client. */
import { type Clock, systemClock } from "../clock.ts";
import {
  createServiceAccount,
  FakeGoogle,
  type FakeJob,
  type TestServiceAccount,
} from "../../tests/fakes/google.ts";
import { CloudRunClient } from "./cloud_run.ts";
import { type GcpCredential, loadServiceAccountKey } from "./service_account.ts";
import { TokenCache } from "./token_cache.ts";

export const PROJECT = "hibiki-test";
export const REGION = "asia-northeast1";
export const JOB = "resume-job";

export interface GcpHarness extends AsyncDisposable {
  fake: FakeGoogle;
  account: TestServiceAccount;
  credential: GcpCredential;
  tokens: TokenCache;
  client: CloudRunClient;
}

export async function startGcpHarness(
  options: { clock?: Clock; tokenExpiresIn?: number; job?: Partial<FakeJob>; timeoutMs?: number } =
    {},
): Promise<GcpHarness> {
  const clock = options.clock ?? systemClock;
  const fake = FakeGoogle.start({ clock, tokenExpiresIn: options.tokenExpiresIn });
  fake.addJob({ project: PROJECT, region: REGION, job: JOB, ...options.job });
  const account = await createServiceAccount(fake, { projectId: PROJECT });
  const key = await loadServiceAccountKey(account.json, {
    allowTokenUri: (url) => url.origin === fake.origin,
  });
  const credential: GcpCredential = { id: "cred-1", key };
  const tokens = new TokenCache({ clock, timeoutMs: 5_000 });
  const client = new CloudRunClient({
    baseUrl: fake.origin,
    tokens,
    clock,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  return {
    fake,
    account,
    credential,
    tokens,
    client,
    [Symbol.asyncDispose]: () => fake.close(),
  };
}
