import assert from "node:assert/strict";
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "./password.ts";

Deno.test("hashPassword() uses PBKDF2-SHA256 with 600,000 iterations and a random salt", async () => {
  assert.ok(PBKDF2_ITERATIONS >= 600_000);
  const a = await hashPassword("correct horse battery staple");
  const b = await hashPassword("correct horse battery staple");
  assert.match(a, /^pbkdf2-sha256\$600000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("correct horse battery staple", a), true);
  assert.equal(await verifyPassword("correct horse battery stapler", a), false);
});

Deno.test("verifyPassword() refuses hashes it does not understand", async () => {
  assert.equal(await verifyPassword("x", "md5$abc"), false);
  assert.equal(await verifyPassword("x", ""), false);
});

Deno.test("verifyPassword() accepts a hash an earlier release stored", async () => {
  const stored =
    "pbkdf2-sha256$1000$xMCsdN0H5vjvBWuksomAnQ$qD7-DaA0zLFhbbPPGIXZkwRuOop0iF3hSgHcaWQ6iQE";
  assert.ok(await verifyPassword("correct horse battery", stored));
  assert.ok(!(await verifyPassword("correct horse battery!", stored)));
});
