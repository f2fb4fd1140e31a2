/**
 * `email` channels against a real SMTP server (npm `smtp-server`) on 127.0.0.1: implicit TLS
 * and STARTTLS with the test CA's certificate for `hooks.test`, plain SMTP to a local relay,
 * authentication, a refused recipient, and the SSRF guard on the SMTP host. Mails are read
 * back with `mailparser` to check sender, recipients, subject and bodies.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { createNotifySend } from "../lib/alerts/channels/notify_send.ts";
import type { Channel, NotifySend } from "../lib/alerts/types.ts";
import { ManualClock } from "../lib/clock.ts";
import { BASE_URL, certificateMessage, groupedMessage, sampleMessage } from "./alert_samples.ts";
import { T0 } from "./helpers.ts";

const TLS_DIR = new URL("./fixtures/tls/", import.meta.url);
const CERT = await Deno.readTextFile(new URL("server.pem", TLS_DIR));
const KEY = await Deno.readTextFile(new URL("server.key", TLS_DIR));
const CA = await Deno.readTextFile(new URL("ca.pem", TLS_DIR));

interface Mail {
  from: string;
  to: string[];
  /** The client's name in EHLO. */
  helo: string;
  secure: boolean;
  user: string | null;
  parsed: ParsedMail;
}

interface Smtp {
  port: number;
  mails: Mail[];
  [Symbol.asyncDispose](): Promise<void>;
}

async function startSmtp(
  mode: "tls" | "starttls" | "none",
  options: { users?: Record<string, string>; refuse?: string[] } = {},
): Promise<Smtp> {
  const mails: Mail[] = [];
  const config: SMTPServerOptions = {
    secure: mode === "tls",
    key: KEY,
    cert: CERT,
    logger: false,
    disabledCommands: mode === "none" ? ["STARTTLS", "AUTH"] : [],
    authOptional: !options.users,
    // Plain AUTH only over TLS, as real servers insist.
    allowInsecureAuth: false,
    onAuth(auth, _session, callback) {
      if (options.users?.[auth.username ?? ""] === auth.password) {
        return callback(null, { user: auth.username });
      }
      const error = Object.assign(new Error("Authentication failed"), { responseCode: 535 });
      callback(error);
    },
    onRcptTo(address, _session, callback) {
      if (options.refuse?.includes(address.address)) {
        const error = Object.assign(new Error("No such user here"), { responseCode: 550 });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", async () => {
        const parsed = await simpleParser(Buffer.concat(chunks));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          helo: session.hostNameAppearsAs,
          secure: session.secure,
          user: (session.user as string | undefined) ?? null,
          parsed,
        });
        callback();
      });
    },
  };
  if (mode === "starttls") config.hideSTARTTLS = false;
  const server = new SMTPServer(config);
  // A client that hangs up mid-handshake (the certificate test) is the server's error event.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A sender as production builds it, except that `hooks.test` resolves to the local server and
 * counts as public, and the test CA is trusted: what is checked is that the connection goes
 * to the vetted address while TLS verifies the host's own name.
 */
function sender(
  options: { allowPrivate?: boolean; resolved?: string; loopbackIsPublic?: boolean } = {},
): NotifySend {
  return createNotifySend({
    allowPrivateNetworks: options.allowPrivate ?? false,
    telegramApiUrl: "http://127.0.0.1:9",
    pagerDutyApiUrl: "http://127.0.0.1:9",
    publicUrl: BASE_URL,
    clock: new ManualClock(T0),
    smtpTimeoutMs: 5_000,
    smtpCa: [CA],
    resolve: () => Promise.resolve([options.resolved ?? "127.0.0.1"]),
    isBlocked: options.loopbackIsPublic === false ? undefined : () => null,
  });
}

function emailChannel(config: Record<string, unknown>): Channel {
  const stamp = new Date(T0).toISOString();
  return {
    id: "ch_mail",
    userId: "default",
    name: "mail",
    type: "email",
    config: {
      host: "hooks.test",
      security: "tls",
      username: null,
      password: null,
      from: "hibiki@example.com",
      to: ["ops@example.com"],
      ...config,
    },
    secret: null,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

Deno.test("an email channel sends over implicit TLS to the vetted address, verified as the host's name", async () => {
  await using smtp = await startSmtp("tls", { users: { alerts: "app-password-1" } });
  const outcome = await sender()(
    emailChannel({ port: smtp.port, username: "alerts", password: "app-password-1" }),
    sampleMessage("incident.opened"),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.equal(outcome.status, 250);
  assert.equal(smtp.mails.length, 1);
  const [mail] = smtp.mails;
  assert.deepEqual(
    { from: mail.from, to: mail.to, secure: mail.secure, user: mail.user, helo: mail.helo },
    {
      from: "hibiki@example.com",
      to: ["ops@example.com"],
      secure: true,
      user: "alerts",
      helo: "hibiki.example.com",
    },
  );
  assert.equal(mail.parsed.subject, "[Hibiki] Down: API health");
  const text = mail.parsed.text ?? "";
  assert.match(text, /🔴 API health is down/);
  assert.match(text, /Cause: Expected status 2xx, got 503/);
  assert.match(text, /When: since 2026-03-02 11:55:00 UTC \(5 min\)/);
  assert.match(text, new RegExp(`Open: ${BASE_URL}/admin/jobs/job_api`));
  assert.match(String(mail.parsed.html), new RegExp(`<a href="${BASE_URL}/admin/jobs/job_api">`));
});

Deno.test("an email channel upgrades with STARTTLS and lists every job of a grouped message", async () => {
  await using smtp = await startSmtp("starttls");
  const outcome = await sender()(
    emailChannel({ port: smtp.port, security: "starttls", to: ["a@example.com", "b@example.com"] }),
    groupedMessage(3),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const [mail] = smtp.mails;
  assert.equal(mail.secure, true);
  assert.deepEqual(mail.to, ["a@example.com", "b@example.com"]);
  assert.equal(mail.parsed.subject, "[Hibiki] 3 jobs down");
  for (const name of ["Job 001", "Job 002", "Job 003"]) {
    assert.match(mail.parsed.text ?? "", new RegExp(`${name} is down`));
  }
});

Deno.test("an email channel's certificate warning says the days left, the end of validity and the subject, linking the job", async () => {
  await using smtp = await startSmtp("tls");
  const outcome = await sender()(
    emailChannel({ port: smtp.port }),
    certificateMessage("Shop <prod>"),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const [mail] = smtp.mails;
  assert.equal(mail.parsed.subject, "[Hibiki] Certificate expires in 10 days: Shop <prod>");
  assert.equal(
    mail.parsed.text?.trim(),
    [
      "⚠️ Shop <prod>: its certificate expires in 10 days",
      "Valid until: 2026-03-12 18:00:00 UTC",
      "Subject: CN=api.example.com",
      "Issuer: C=US, O=Let's Encrypt, CN=R11",
      `Open: ${BASE_URL}/admin/jobs/job_api`,
      "",
      "— Hibiki",
    ].join("\n"),
  );
  const html = String(mail.parsed.html);
  assert.match(
    html,
    new RegExp(`<a href="${BASE_URL}/admin/jobs/job_api"><strong>Shop &lt;prod&gt;`),
  );
  assert.match(html, /Valid until: 2026-03-12 18:00:00 UTC/);
});

Deno.test("an email channel refuses a certificate that does not name the host", async () => {
  await using smtp = await startSmtp("tls");
  const outcome = await sender()(
    emailChannel({ host: "mail.example.net", port: smtp.port }),
    sampleMessage("incident.opened"),
  );
  assert.equal(outcome.success, false);
  assert.equal(outcome.permanent, false);
  assert.match(
    outcome.error ?? "",
    /^Cannot send mail via mail\.example\.net: .*(certificate|name|altnames)/i,
  );
  assert.equal(smtp.mails.length, 0);
});

Deno.test("an email channel's host on a private address is refused before connecting", async () => {
  await using smtp = await startSmtp("tls");
  const outcome = await sender({ resolved: "10.0.0.7", loopbackIsPublic: false })(
    emailChannel({ port: smtp.port }),
    sampleMessage("incident.opened"),
  );
  assert.equal(outcome.success, false);
  assert.equal(outcome.permanent, true);
  assert.equal(
    outcome.error,
    "Cannot connect to SMTP host hooks.test: address 10.0.0.7 is private",
  );
  assert.equal(smtp.mails.length, 0);
});

Deno.test("an email channel sends plain SMTP to a local relay when private networks are allowed, a test marked as one", async () => {
  await using smtp = await startSmtp("none");
  const outcome = await sender({ allowPrivate: true })(
    emailChannel({ host: "127.0.0.1", port: smtp.port, security: "none" }),
    sampleMessage("test"),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const [mail] = smtp.mails;
  assert.equal(mail.secure, false);
  assert.equal(mail.parsed.subject, "[Hibiki] Test notification from Hibiki");
  assert.match(mail.parsed.text ?? "", /^This is a test sent from Hibiki/);
});

Deno.test("an email channel's refused recipient and failed login are permanent, with the server's answer", async () => {
  await using smtp = await startSmtp("tls", {
    users: { alerts: "right-password" },
    refuse: ["nobody@example.com"],
  });
  const send = sender();
  const refused = await send(
    emailChannel({
      port: smtp.port,
      username: "alerts",
      password: "right-password",
      to: ["nobody@example.com"],
    }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { success: refused.success, status: refused.status, permanent: refused.permanent },
    { success: false, status: 550, permanent: true },
  );
  assert.match(refused.response, /No such user here/);
  const denied = await send(
    emailChannel({ port: smtp.port, username: "alerts", password: "wrong-password" }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { success: denied.success, status: denied.status, permanent: denied.permanent },
    { success: false, status: 535, permanent: true },
  );
  assert.doesNotMatch(`${denied.error} ${denied.response}`, /wrong-password/);
  assert.equal(smtp.mails.length, 0);
});

Deno.test("an email channel saved as plain SMTP sends nothing once private networks are no longer allowed", async () => {
  await using smtp = await startSmtp("none");
  const outcome = await sender()(
    emailChannel({ host: "127.0.0.1", port: smtp.port, security: "none" }),
    sampleMessage("incident.opened"),
  );
  assert.equal(outcome.success, false);
  assert.equal(outcome.permanent, true);
  assert.match(outcome.error ?? "", /unencrypted/);
  assert.equal(smtp.mails.length, 0);
});
