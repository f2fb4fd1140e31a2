import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { GcpTokenError } from "./errors.ts";
import { JOB, PROJECT, REGION, startGcpHarness } from "./test_support.ts";

const NOW = Date.UTC(2025, 0, 15, 9, 30, 0);

Deno.test("TokenCache reuses one token across runs", async () => {
  await using gcp = await startGcpHarness();
  const { client, credential, fake } = gcp;
  for (let i = 0; i < 3; i++) {
    await client.runJob({ credential, project: PROJECT, region: REGION, job: JOB });
  }
  assert.equal(fake.tokenRequests, 1);
  assert.equal(fake.executions.length, 3);
});

Deno.test("TokenCache refreshes a token 5 minutes before it expires", async () => {
  const clock = new ManualClock(NOW);
  await using gcp = await startGcpHarness({ clock, tokenExpiresIn: 3600 });
  const { tokens, credential, fake } = gcp;
  const first = await tokens.getToken(credential);
  clock.advance(55 * 60_000 - 1);
  assert.equal(await tokens.getToken(credential), first);
  assert.equal(fake.tokenRequests, 1);
  clock.advance(1);
  const second = await tokens.getToken(credential);
  assert.notEqual(second, first);
  assert.equal(fake.tokenRequests, 2);
});

Deno.test("TokenCache lets concurrent callers share one refresh", async () => {
  await using gcp = await startGcpHarness();
  const { tokens, credential, fake } = gcp;
  const got = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken(credential)));
  assert.equal(new Set(got).size, 1);
  assert.equal(fake.tokenRequests, 1);
  tokens.invalidate(credential.id);
  const again = await Promise.all(Array.from({ length: 5 }, () => tokens.getToken(credential)));
  assert.equal(new Set(again).size, 1);
  assert.notEqual(again[0], got[0]);
  assert.equal(fake.tokenRequests, 2);
});

Deno.test("TokenCache.invalidate() with the rejected token keeps a newer one", async () => {
  await using gcp = await startGcpHarness();
  const { tokens, credential, fake } = gcp;
  const old = await tokens.getToken(credential);
  tokens.invalidate(credential.id, old);
  const fresh = await tokens.getToken(credential);
  // A second caller that saw the same 401 must not throw the replacement away.
  tokens.invalidate(credential.id, old);
  assert.equal(await tokens.getToken(credential), fresh);
  assert.equal(fake.tokenRequests, 2);
});

Deno.test("TokenCache does not cache a failed exchange, and reports Google's error_description", async () => {
  await using gcp = await startGcpHarness();
  const { tokens, credential, fake } = gcp;
  fake.script("token", {
    status: 503,
    message: "Backend unavailable",
    googleStatus: "unavailable",
  });
  await assert.rejects(() => tokens.getToken(credential), (error: unknown) => {
    assert.ok(error instanceof GcpTokenError);
    assert.equal(error.retryable, true);
    assert.equal(error.category, "unavailable");
    assert.match(error.message, /Backend unavailable/);
    return true;
  });
  assert.match(await tokens.getToken(credential), /^ya29\./);
  assert.equal(fake.tokenRequests, 2);
});

Deno.test("TokenCache keeps tokens apart per credential id", async () => {
  await using gcp = await startGcpHarness();
  const { tokens, credential, fake } = gcp;
  const a = await tokens.getToken(credential);
  const b = await tokens.getToken({ ...credential, id: "cred-2" });
  assert.notEqual(a, b);
  assert.equal(fake.tokenRequests, 2);
});
