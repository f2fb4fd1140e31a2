import assert from "node:assert/strict";
import { ValidationError } from "../errors.ts";
import { createServiceAccount, FakeGoogle } from "../../tests/fakes/google.ts";
import {
  isGoogleTokenUri,
  loadServiceAccountKey,
  parseServiceAccountJson,
} from "./service_account.ts";

const allowFake = (fake: FakeGoogle) => ({
  allowTokenUri: (url: URL) => url.origin === fake.origin,
});

function withField(json: string, field: string, value: unknown): Record<string, unknown> {
  const parsed = JSON.parse(json);
  if (value === undefined) delete parsed[field];
  else parsed[field] = value;
  return parsed;
}

function assertKeyError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.field, "key");
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("loadServiceAccountKey() imports a downloaded key file as a non-extractable signing key", async () => {
  await using fake = FakeGoogle.start();
  const account = await createServiceAccount(fake);
  const key = await loadServiceAccountKey(account.json, allowFake(fake));
  assert.equal(key.clientEmail, account.clientEmail);
  assert.equal(key.privateKeyId, account.privateKeyId);
  assert.equal(key.projectId, "hibiki-test");
  assert.equal(key.tokenUri, fake.tokenUrl);
  assert.equal(key.privateKey.extractable, false);
  assert.deepEqual(key.privateKey.usages, ["sign"]);
  assert.ok(!JSON.stringify(key).includes("PRIVATE KEY"));
});

Deno.test("parseServiceAccountJson() names the field that is missing or wrong", async () => {
  await using fake = FakeGoogle.start();
  const { json } = await createServiceAccount(fake);
  const options = allowFake(fake);
  assertKeyError(
    () => parseServiceAccountJson(withField(json, "client_email", undefined), options),
    /"client_email" is required/,
  );
  assertKeyError(
    () => parseServiceAccountJson(withField(json, "client_email", "nobody"), options),
    /"client_email" must be an email address/,
  );
  assertKeyError(
    () => parseServiceAccountJson(withField(json, "type", "authorized_user"), options),
    /"type" must be "service_account"/,
  );
  assertKeyError(
    () => parseServiceAccountJson(withField(json, "private_key_id", ""), options),
    /"private_key_id"/,
  );
  assertKeyError(() => parseServiceAccountJson("{not json", options), /not valid JSON/);
  assertKeyError(() => parseServiceAccountJson("[]", options), /expected a JSON object/);
});

Deno.test("parseServiceAccountJson() accepts only Google's token endpoint unless told otherwise", async () => {
  await using fake = FakeGoogle.start();
  const { json } = await createServiceAccount(fake);
  assertKeyError(
    () => parseServiceAccountJson(json),
    /"token_uri" must be Google's token endpoint/,
  );
  const google = withField(json, "token_uri", "https://oauth2.googleapis.com/token");
  assert.equal(parseServiceAccountJson(google).token_uri, "https://oauth2.googleapis.com/token");
  assert.equal(isGoogleTokenUri(new URL("http://oauth2.googleapis.com/token")), false);
  assert.equal(isGoogleTokenUri(new URL("https://oauth2.googleapis.com.evil.test/token")), false);
});

Deno.test("loadServiceAccountKey() refuses a private key that does not import", async () => {
  await using fake = FakeGoogle.start();
  const { json } = await createServiceAccount(fake);
  const options = allowFake(fake);
  const garbage = "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
  await assert.rejects(
    () => loadServiceAccountKey(withField(json, "private_key", garbage), options),
    (error: unknown) =>
      error instanceof ValidationError && error.field === "key" &&
      /"private_key" is not an RSA private key/.test(error.message),
  );
  await assert.rejects(
    () => loadServiceAccountKey(withField(json, "private_key", "hello"), options),
    /"private_key" is not a PEM/,
  );
  const pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
  await assert.rejects(
    () => loadServiceAccountKey(withField(json, "private_key", pkcs1), options),
    /PKCS#1/,
  );
});

Deno.test("loadServiceAccountKey() accepts a key pasted with literal \\n sequences", async () => {
  await using fake = FakeGoogle.start();
  const { json } = await createServiceAccount(fake);
  const pem = JSON.parse(json).private_key as string;
  const pasted = withField(json, "private_key", pem.replaceAll("\n", "\\n"));
  const key = await loadServiceAccountKey(pasted, allowFake(fake));
  assert.equal(key.privateKey.type, "private");
});
