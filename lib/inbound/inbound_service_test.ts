import assert from "node:assert/strict";
import { challengeOf, deliveryIdOf, redactHeaders } from "./inbound_service.ts";

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

Deno.test("deliveryIdOf() prefers the signed webhook-id and falls back to provider headers", async () => {
  const none = { verification: { mode: "none" as const } };
  const body = encoder.encode('{"id":"evt_1"}');
  assert.equal(
    await deliveryIdOf(none, new Headers({ "webhook-id": "msg_1", "X-Request-Id": "r" }), body),
    "msg_1",
  );
  assert.equal(await deliveryIdOf(none, new Headers({ "X-GitHub-Delivery": "g-1" }), body), "g-1");
  assert.equal(await deliveryIdOf(none, new Headers({ "X-Request-Id": "r-1" }), body), "r-1");
  assert.equal(await deliveryIdOf(none, new Headers(), body), null);
  // Only a Stripe hook takes the id from the (verified) JSON body.
  const stripe = { verification: { mode: "stripe" as const, secret: "s", toleranceSeconds: 300 } };
  assert.equal(await deliveryIdOf(stripe, new Headers({ "X-Request-Id": "r" }), body), "evt_1");
  const long = await deliveryIdOf(none, new Headers({ "X-Webhook-ID": "x".repeat(300) }), body);
  assert.match(long!, /^sha256:[0-9a-f]{64}$/);
});

Deno.test("redactHeaders() hides credentials, signatures and the hook's secret header", () => {
  const headers = new Headers({
    Authorization: "Bearer x",
    "Proxy-Authorization": "Basic y",
    Cookie: "a=b",
    "X-Hub-Signature-256": "sha256=00",
    "Stripe-Signature": "t=1,v1=00",
    "X-Slack-Signature": "v0=00",
    "X-Gitlab-Token": "tok",
    "X-Api-Key": "k",
    Secret: "s",
    "X-Custom-Auth": "c",
    "Content-Type": "application/json",
    "User-Agent": "GitHub-Hookshot/1",
  });
  const kept = redactHeaders(headers, {
    mode: "header_secret",
    header: "X-Custom-Auth",
    secret: "",
  });
  for (
    const name of [
      "authorization",
      "proxy-authorization",
      "cookie",
      "x-hub-signature-256",
      "stripe-signature",
      "x-slack-signature",
      "x-gitlab-token",
      "x-api-key",
      "secret",
      "x-custom-auth",
    ]
  ) {
    assert.equal(kept[name], "[redacted]", name);
  }
  assert.equal(kept["content-type"], "application/json");
  assert.equal(kept["user-agent"], "GitHub-Hookshot/1");
});
