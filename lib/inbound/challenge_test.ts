import assert from "node:assert/strict";
import { challengeOf } from "./challenge.ts";

const encoder = new TextEncoder();

Deno.test("challengeOf() tells Slack's url_verification from seed 001's bare challenge", () => {
  assert.deepEqual(
    challengeOf(encoder.encode('{"type":"url_verification","challenge":"abc","token":"t"}')),
    { challenge: "abc", shape: "slack" },
  );
  assert.deepEqual(challengeOf(encoder.encode('{"challenge":"xyz"}')), {
    challenge: "xyz",
    shape: "plain",
  });
  assert.equal(challengeOf(encoder.encode('{"challenge":42}')), null);
  assert.equal(challengeOf(encoder.encode('["challenge"]')), null);
  assert.equal(challengeOf(encoder.encode("challenge=abc")), null);
  assert.equal(challengeOf(encoder.encode(JSON.stringify({ challenge: "x".repeat(2049) }))), null);
});
