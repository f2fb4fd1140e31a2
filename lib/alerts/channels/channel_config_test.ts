import assert from "node:assert/strict";
import { ValidationError } from "../../errors.ts";
import {
  keepMaskedSecrets,
  maskConfig,
  maskValue,
  openConfig,
  parseChannelConfig,
  sealConfig,
} from "./channel_config.ts";

const RULES = { allowPrivateNetworks: false, allowHttp: false };

Deno.test("maskValue() shows a URL's origin, a long token's first characters, and nothing of a short one", () => {
  assert.equal(
    maskValue("https://hooks.slack.com/services/T/B/X", "url"),
    "https://hooks.slack.com/…",
  );
  assert.equal(maskValue("R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12", "prefix"), "R0ut…");
  assert.equal(maskValue("short-token", "prefix"), "…");
  assert.equal(maskValue("a-long-password-indeed", "hidden"), "…");
});

Deno.test("parseChannelConfig() fills defaults and normalises what the services take", () => {
  assert.deepEqual(parseChannelConfig("ntfy", { topic: "ops" }, RULES), {
    serverUrl: "https://ntfy.sh",
    topic: "ops",
    token: null,
  });
  assert.deepEqual(
    parseChannelConfig("email", {
      host: "smtp.example.com",
      security: "tls",
      from: "a@example.com",
      to: "b@example.com",
    }, RULES),
    {
      host: "smtp.example.com",
      port: 465,
      security: "tls",
      username: null,
      password: null,
      from: "a@example.com",
      to: ["b@example.com"],
    },
  );
  assert.deepEqual(
    parseChannelConfig("telegram", {
      botToken: "1:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
      chatId: -1001,
    }, RULES).chatId,
    "-1001",
  );
  assert.throws(
    () =>
      parseChannelConfig("email", {
        host: "h.example",
        security: "tls",
        from: "a@example.com",
        to: "b@example.com",
        username: "u",
      }, RULES),
    (error: Error) => error instanceof ValidationError && /go together/.test(error.message),
  );
});

Deno.test("secrets are sealed and opened field by field, and a mask sent back keeps the secret", async () => {
  const config = {
    url: "https://example.com/hook",
    headers: { Authorization: "Bearer 0123456789abcdef", "X-Short": "abc" },
  };
  const sealed = await sealConfig(
    "webhook",
    config,
    (value, path) => Promise.resolve(`sealed(${path}:${value.length})`),
  );
  assert.deepEqual(sealed, {
    url: "https://example.com/hook",
    headers: {
      Authorization: "sealed(headers.Authorization:23)",
      "X-Short": "sealed(headers.X-Short:3)",
    },
  });
  const opened = await openConfig(
    "webhook",
    sealed,
    (_, path) =>
      Promise.resolve(path === "headers.Authorization" ? config.headers.Authorization : "abc"),
  );
  assert.deepEqual(opened, config);
  const shown = await maskConfig("webhook", opened);
  assert.deepEqual(shown.headers, { Authorization: "Bear…", "X-Short": "…" });
  const back = keepMaskedSecrets("webhook", {
    ...shown,
    headers: { ...shown.headers as object, "X-Short": "new" },
  }, opened);
  assert.deepEqual(back.headers, { Authorization: "Bearer 0123456789abcdef", "X-Short": "new" });
});
