import assert from "node:assert/strict";
import { deliveryIdOf } from "./inbound_receiver.ts";

const encoder = new TextEncoder();

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
