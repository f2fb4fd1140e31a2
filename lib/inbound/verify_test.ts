import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  verifyGithub,
  verifyHeaderSecret,
  verifyHmacSha256,
  type VerifyOutcome,
  verifyRequest,
  verifyStandardWebhooks,
  verifyStripe,
} from "./verify.ts";

const encoder = new TextEncoder();
const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const NOW_S = Math.floor(NOW / 1000);

function request(body: string, headers: Record<string, string>, now = NOW) {
  return { body: encoder.encode(body), headers: new Headers(headers), now };
}

function expectFailure(outcome: VerifyOutcome, reason: string): void {
  assert.equal(outcome.ok, false, "expected the request to be refused");
  if (!outcome.ok) assert.equal(outcome.reason, reason, outcome.message);
}

// ---------------------------------------------------------------------------------------------
// header_secret (seed 001)

Deno.test("verifyHeaderSecret() accepts the named header when it equals the secret", async () => {
  const outcome = await verifyHeaderSecret(request("{}", { Secret: "s3cret-value" }), {
    header: "Secret",
    secret: "s3cret-value",
  });
  assert.deepEqual(outcome, { ok: true });
});

Deno.test("verifyHeaderSecret() refuses a wrong, a longer and a missing secret", async () => {
  const options = { header: "Secret", secret: "s3cret-value" };
  expectFailure(
    await verifyHeaderSecret(request("{}", { Secret: "s3cret-valuf" }), options),
    "mismatch",
  );
  expectFailure(
    await verifyHeaderSecret(request("{}", { Secret: "s3cret-value-and-more" }), options),
    "mismatch",
  );
  expectFailure(
    await verifyHeaderSecret(request("{}", { Other: "s3cret-value" }), options),
    "missing",
  );
});

// ---------------------------------------------------------------------------------------------
// hmac_sha256

Deno.test("verifyHmacSha256() accepts a hex digest after its prefix and a base64 digest", async () => {
  const body = '{"event":"push"}';
  const hex = createHmac("sha256", "topsecret").update(body).digest("hex");
  const b64 = createHmac("sha256", "topsecret").update(body).digest("base64");
  assert.deepEqual(
    await verifyHmacSha256(request(body, { "X-Sig": `sha256=${hex}` }), {
      header: "X-Sig",
      prefix: "sha256=",
      encoding: "hex",
      secret: "topsecret",
    }),
    { ok: true },
  );
  assert.deepEqual(
    await verifyHmacSha256(request(body, { "X-Sig": b64 }), {
      header: "X-Sig",
      prefix: "",
      encoding: "base64",
      secret: "topsecret",
    }),
    { ok: true },
  );
});

Deno.test("verifyHmacSha256() refuses a digest of other bytes, a bad prefix and no header", async () => {
  const options = { header: "X-Sig", prefix: "sha256=", encoding: "hex" as const, secret: "k3y" };
  const hex = createHmac("sha256", "k3y").update('{"a":1}').digest("hex");
  // The same JSON, re-serialised with a space: the MAC covers bytes, not meaning.
  expectFailure(
    await verifyHmacSha256(request('{"a": 1}', { "X-Sig": `sha256=${hex}` }), options),
    "mismatch",
  );
  expectFailure(
    await verifyHmacSha256(request('{"a":1}', { "X-Sig": `sha1=${hex}` }), options),
    "malformed",
  );
  expectFailure(
    await verifyHmacSha256(request('{"a":1}', { "X-Sig": "sha256=zz" }), options),
    "malformed",
  );
  expectFailure(await verifyHmacSha256(request('{"a":1}', {}), options), "missing");
});

// ---------------------------------------------------------------------------------------------
// GitHub preset

Deno.test("verifyGithub() accepts X-Hub-Signature-256 computed as GitHub does", async () => {
  const body = '{"zen":"Keep it logically awesome.","hook_id":1}';
  const signature = "sha256=" + createHmac("sha256", "gh-secret").update(body).digest("hex");
  const outcome = await verifyGithub(
    request(body, { "X-Hub-Signature-256": signature, "X-GitHub-Delivery": "d-1" }),
    { secret: "gh-secret" },
  );
  assert.deepEqual(outcome, { ok: true });
});

Deno.test("verifyGithub() refuses another secret's signature, the SHA-1 header alone, and none", async () => {
  const body = '{"zen":"x"}';
  const wrong = "sha256=" + createHmac("sha256", "not-it").update(body).digest("hex");
  const sha1 = "sha1=" + createHmac("sha1", "gh-secret").update(body).digest("hex");
  expectFailure(
    await verifyGithub(request(body, { "X-Hub-Signature-256": wrong }), { secret: "gh-secret" }),
    "mismatch",
  );
  expectFailure(
    await verifyGithub(request(body, { "X-Hub-Signature": sha1 }), { secret: "gh-secret" }),
    "missing",
  );
  expectFailure(await verifyGithub(request(body, {}), { secret: "gh-secret" }), "missing");
});

// ---------------------------------------------------------------------------------------------
// Standard Webhooks

const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

function vectorRequest(overrides: Record<string, string> = {}, now = VECTOR.timestamp * 1000) {
  return request(VECTOR.body, {
    "webhook-id": VECTOR.id,
    "webhook-timestamp": String(VECTOR.timestamp),
    "webhook-signature": VECTOR.signature,
    ...overrides,
  }, now);
}

Deno.test("verifyStandardWebhooks() accepts the specification's test vector", async () => {
  assert.deepEqual(await verifyStandardWebhooks(vectorRequest(), { secret: VECTOR.secret }), {
    ok: true,
  });
});

Deno.test("verifyStandardWebhooks() accepts a matching signature among several", async () => {
  const outcome = await verifyStandardWebhooks(
    vectorRequest({ "webhook-signature": `v1,bm90IGl0 ${VECTOR.signature} v1a,abc` }),
    { secret: VECTOR.secret },
  );
  assert.deepEqual(outcome, { ok: true });
});

Deno.test("verifyStandardWebhooks() accepts the svix- header names", async () => {
  const outcome = await verifyStandardWebhooks(
    request(VECTOR.body, {
      "svix-id": VECTOR.id,
      "svix-timestamp": String(VECTOR.timestamp),
      "svix-signature": VECTOR.signature,
    }, VECTOR.timestamp * 1000),
    { secret: VECTOR.secret },
  );
  assert.deepEqual(outcome, { ok: true });
});

Deno.test("verifyStandardWebhooks() refuses a changed id, body or signature", async () => {
  const options = { secret: VECTOR.secret };
  expectFailure(
    await verifyStandardWebhooks(vectorRequest({ "webhook-id": "msg_other" }), options),
    "mismatch",
  );
  expectFailure(
    await verifyStandardWebhooks(
      request('{"test": 2432232315}', {
        "webhook-id": VECTOR.id,
        "webhook-timestamp": String(VECTOR.timestamp),
        "webhook-signature": VECTOR.signature,
      }, VECTOR.timestamp * 1000),
      options,
    ),
    "mismatch",
  );
  expectFailure(
    await verifyStandardWebhooks(
      vectorRequest({ "webhook-signature": "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" }),
      options,
    ),
    "mismatch",
  );
  expectFailure(
    await verifyStandardWebhooks(vectorRequest(), { secret: "whsec_" + btoa("another key 1234") }),
    "mismatch",
  );
});

Deno.test("verifyStandardWebhooks() refuses a missing header and a signature without v1", async () => {
  const options = { secret: VECTOR.secret };
  const headers = {
    "webhook-id": VECTOR.id,
    "webhook-timestamp": String(VECTOR.timestamp),
  };
  expectFailure(
    await verifyStandardWebhooks(request(VECTOR.body, headers, VECTOR.timestamp * 1000), options),
    "missing",
  );
  expectFailure(
    await verifyStandardWebhooks(vectorRequest({ "webhook-signature": "v2,abc" }), options),
    "malformed",
  );
});

Deno.test("verifyStandardWebhooks() refuses a replay older than 5 minutes and one from the future", async () => {
  const options = { secret: VECTOR.secret };
  const sent = VECTOR.timestamp * 1000;
  assert.deepEqual(await verifyStandardWebhooks(vectorRequest({}, sent + 300_000), options), {
    ok: true,
  });
  expectFailure(
    await verifyStandardWebhooks(vectorRequest({}, sent + 301_000), options),
    "expired",
  );
  expectFailure(
    await verifyStandardWebhooks(vectorRequest({}, sent - 301_000), options),
    "expired",
  );
  expectFailure(
    await verifyStandardWebhooks(vectorRequest({ "webhook-timestamp": "16142653x0" }), options),
    "malformed",
  );
});

// ---------------------------------------------------------------------------------------------
// Stripe preset

function stripeHeader(body: string, secret: string, t: number, extra = ""): string {
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}${extra}`;
}

const STRIPE_SECRET = "whsec_test_stripe_secret_0123456789";

Deno.test("verifyStripe() accepts Stripe-Signature computed as Stripe does", async () => {
  const body = '{"id":"evt_1","type":"charge.succeeded"}';
  const header = stripeHeader(body, STRIPE_SECRET, NOW_S, ",v0=deadbeef");
  assert.deepEqual(
    await verifyStripe(request(body, { "Stripe-Signature": header }), { secret: STRIPE_SECRET }),
    { ok: true },
  );
});

Deno.test("verifyStripe() refuses another payload, another secret and a missing or bare header", async () => {
  const body = '{"id":"evt_1"}';
  const options = { secret: STRIPE_SECRET };
  const header = stripeHeader(body, STRIPE_SECRET, NOW_S);
  expectFailure(
    await verifyStripe(request('{"id":"evt_2"}', { "Stripe-Signature": header }), options),
    "mismatch",
  );
  expectFailure(
    await verifyStripe(
      request(body, { "Stripe-Signature": stripeHeader(body, "whsec_other_secret", NOW_S) }),
      options,
    ),
    "mismatch",
  );
  expectFailure(await verifyStripe(request(body, {}), options), "missing");
  expectFailure(
    await verifyStripe(request(body, { "Stripe-Signature": `t=${NOW_S}` }), options),
    "malformed",
  );
});

Deno.test("verifyStripe() refuses a replayed signature older than the tolerance", async () => {
  const body = '{"id":"evt_1"}';
  const header = stripeHeader(body, STRIPE_SECRET, NOW_S - 301);
  expectFailure(
    await verifyStripe(request(body, { "Stripe-Signature": header }), { secret: STRIPE_SECRET }),
    "expired",
  );
  // A wider tolerance admits it.
  assert.deepEqual(
    await verifyStripe(request(body, { "Stripe-Signature": header }), {
      secret: STRIPE_SECRET,
      toleranceSeconds: 600,
    }),
    { ok: true },
  );
});

// ---------------------------------------------------------------------------------------------
// Dispatch by mode

Deno.test("verifyRequest() lets anything through in mode none and dispatches the others", async () => {
  assert.deepEqual(await verifyRequest({ mode: "none" }, request("x", {})), { ok: true });
  expectFailure(
    await verifyRequest({ mode: "github", secret: "s" }, request("x", {})),
    "missing",
  );
  assert.deepEqual(
    await verifyRequest(
      { mode: "standard_webhooks", secret: VECTOR.secret, toleranceSeconds: 300 },
      vectorRequest(),
    ),
    { ok: true },
  );
});
