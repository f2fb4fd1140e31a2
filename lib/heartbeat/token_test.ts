import assert from "node:assert/strict";
import { newPingToken, PING_TOKEN, pingTokenHash } from "./token.ts";

Deno.test("newPingToken() makes 192-bit base64url tokens that do not repeat", () => {
  const tokens = new Set(Array.from({ length: 10_000 }, newPingToken));
  assert.equal(tokens.size, 10_000);
  for (const token of [...tokens].slice(0, 100)) {
    assert.match(token, PING_TOKEN);
    assert.equal(Uint8Array.fromBase64(token, { alphabet: "base64url" }).length, 24);
  }
});

Deno.test("pingTokenHash() is the SHA-256 hex a ping is looked up by", () => {
  assert.equal(
    pingTokenHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
