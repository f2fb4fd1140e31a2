import assert from "node:assert/strict";
import { redactHeaders } from "./redact.ts";

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
