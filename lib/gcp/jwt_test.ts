import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { createServiceAccount, FakeGoogle } from "../../tests/fakes/google.ts";
import { GcpTokenError } from "./errors.ts";
import { CLOUD_PLATFORM_SCOPE, createAssertion } from "./jwt.ts";
import { loadServiceAccountKey } from "./service_account.ts";
import { JWT_BEARER_GRANT, TokenCache } from "./token_cache.ts";

const NOW = Date.UTC(2025, 0, 15, 9, 30, 0);

function decode(part: string): Record<string, unknown> {
  return JSON.parse(
    new TextDecoder().decode(Uint8Array.fromBase64(part, { alphabet: "base64url" })),
  );
}

async function setup() {
  const clock = new ManualClock(NOW);
  const fake = FakeGoogle.start({ clock });
  const account = await createServiceAccount(fake);
  const key = await loadServiceAccountKey(account.json, {
    allowTokenUri: (url) => url.origin === fake.origin,
  });
  return { clock, fake, account, key };
}

Deno.test("createAssertion() signs a JWT that verifies with the public key and carries Google's claims", async () => {
  const { clock, fake, account, key } = await setup();
  await using _ = fake;
  const jwt = await createAssertion(key, { clock });
  const parts = jwt.split(".");
  assert.equal(parts.length, 3);
  for (const part of parts) assert.match(part, /^[A-Za-z0-9_-]+$/, "base64url without padding");

  assert.deepEqual(decode(parts[0]), { alg: "RS256", typ: "JWT", kid: account.privateKeyId });
  const iat = Math.floor(NOW / 1000);
  assert.deepEqual(decode(parts[1]), {
    iss: account.clientEmail,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: fake.tokenUrl,
    iat,
    exp: iat + 3600,
  });
  const valid = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    account.keyPair.publicKey,
    Uint8Array.fromBase64(parts[2], { alphabet: "base64url" }) as BufferSource,
    new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
  );
  assert.ok(valid);
});

Deno.test("createAssertion() never asks for more than an hour", async () => {
  const { clock, fake, key } = await setup();
  await using _ = fake;
  const claims = decode((await createAssertion(key, { clock, lifetimeS: 7200 })).split(".")[1]);
  assert.equal((claims.exp as number) - (claims.iat as number), 3600);
});

Deno.test("the fake token endpoint issues a token for a correctly signed assertion", async () => {
  const { clock, fake, key } = await setup();
  await using _ = fake;
  const tokens = new TokenCache({ clock });
  const token = await tokens.getToken({ id: "c", key });
  assert.match(token, /^ya29\./);
  assert.equal(fake.tokenRequests, 1);
});

Deno.test("an assertion signed by another key pair under the same client_email is refused", async () => {
  const { clock, fake, account } = await setup();
  await using _ = fake;
  // Same email and key id as the registered account, but a private key Google never saw.
  const impostor = await createServiceAccount(fake, {
    clientEmail: account.clientEmail,
    privateKeyId: account.privateKeyId,
    register: false,
  });
  const key = await loadServiceAccountKey(impostor.json, {
    allowTokenUri: (url) => url.origin === fake.origin,
  });
  const tokens = new TokenCache({ clock });
  await assert.rejects(
    () => tokens.getToken({ id: "c", key }),
    (error: unknown) => {
      assert.ok(error instanceof GcpTokenError);
      assert.equal(error.category, "auth");
      assert.equal(error.status, 400);
      assert.equal(error.googleStatus, "invalid_grant");
      assert.equal(error.retryable, false);
      assert.match(error.message, /Cannot get access token for .*: Invalid JWT Signature\./);
      return true;
    },
  );
  assert.equal(fake.lastTokenError, "Invalid JWT Signature.");
});

Deno.test("an assertion with the wrong audience is refused", async () => {
  const { clock, fake, key } = await setup();
  await using _ = fake;
  const assertion = await createAssertion(
    { ...key, tokenUri: "https://oauth2.googleapis.com/token" },
    { clock },
  );
  const response = await fetch(fake.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }),
  });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.error, "invalid_grant");
  assert.match(body.error_description, /Failed audience check/);
});

Deno.test("an assertion issued in the future or a wrong grant type is refused", async () => {
  const { clock, fake, key } = await setup();
  await using _ = fake;
  const future = await createAssertion(key, { clock: new ManualClock(NOW + 10 * 60_000) });
  const post = (grant: string, assertion: string) =>
    fetch(fake.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: grant, assertion }),
    }).then((r) => r.json());
  assert.match((await post(JWT_BEARER_GRANT, future)).error_description, /reasonable timeframe/);
  const now = await createAssertion(key, { clock });
  assert.equal((await post("client_credentials", now)).error, "unsupported_grant_type");
  assert.ok((await post(JWT_BEARER_GRANT, now)).access_token);
});
