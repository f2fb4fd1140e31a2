import assert from "node:assert/strict";
import { fromBase64, randomBytes, SecretBox, secretsEqual, sha256Hex } from "./crypto.ts";

Deno.test("SecretBox seals and opens a secret, bound to its context", async () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = await box.seal("whsec_abc", "webhook:1");
  assert.ok(!sealed.includes("whsec_abc"));
  assert.equal(await box.open(sealed, "webhook:1"), "whsec_abc");
  await assert.rejects(() => box.open(sealed, "webhook:2"));
  const other = new SecretBox(randomBytes(32));
  await assert.rejects(() => other.open(sealed, "webhook:1"));
});

Deno.test("SecretBox seals the same secret differently each time", async () => {
  const box = new SecretBox(randomBytes(32));
  assert.notEqual(await box.seal("s", "c"), await box.seal("s", "c"));
});

Deno.test("secretsEqual() compares secrets of any length", async () => {
  assert.equal(await secretsEqual("abc", "abc"), true);
  assert.equal(await secretsEqual("abc", "abd"), false);
  assert.equal(await secretsEqual("abc", "abcd"), false);
});

Deno.test("sha256Hex() matches the known digest of the empty string", async () => {
  assert.equal(
    await sha256Hex(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("SecretBox opens what an earlier release sealed", async () => {
  const box = new SecretBox(new Uint8Array(32).map((_, i) => i));
  const sealed =
    "v1.iKhzxhF_Enf9mP34.GjpfoPLlVQ8LpymYneK6lujRVqNsWqSiPCP_1h33pZfaAMKB25a98ptkx9KHmePylhXtqEyp";
  assert.equal(await box.open(sealed, "webhook:job_1"), "whsec_c2VjcmV0IHZhbHVlIGZvciB0ZXN0cw==");
});

Deno.test("fromBase64() reads either alphabet, padded or not, and nothing else", () => {
  const bytes = [251, 255, 191, 65];
  for (const text of ["+/+/QQ==", "-_-_QQ==", "+/+/QQ", "-_-_QQ"]) {
    assert.deepEqual([...fromBase64(text)], bytes, text);
  }
  assert.deepEqual([...fromBase64("")], []);
  for (const text of ["QQ==QQ==", "QUJD\n", "QU JD", "QQQQQ", "=QQ", "QQ==="]) {
    assert.throws(() => fromBase64(text), SyntaxError, JSON.stringify(text));
  }
});
