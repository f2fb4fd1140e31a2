/**
 * `email` channels: one message (subject, plain text and HTML) sent over SMTP with nodemailer.
 * The SMTP host passes the SSRF guard like a URL: it is resolved once, refused when any
 * address is private (unless private networks are allowed), and nodemailer connects to the
 * vetted address while TLS presents and verifies the host's own name (`servername`), so DNS
 * cannot be asked twice and answer differently. `security` is `tls` (TLS from the first byte,
 * port 465), `starttls` (STARTTLS required, 587) or `none` (plain, 25), which only a local
 * relay may use: it is accepted only when private networks are allowed. A 5xx answer (a
 * refused recipient, failed authentication) is permanent; a 4xx is retried.
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import { ValidationError } from "../../errors.ts";
import { BlockedAddressError, DnsError, vetUrl, vetUrlWithoutDns } from "../../net/ssrf.ts";
import type { AlertMessage, CertificateMessage, Channel, SendOutcome } from "../types.ts";
import { notSent, RESPONSE_BYTES, scrub, type SendContext } from "./http_post.ts";
import { certificateFacts, escapeHtml, headline, itemFacts, oneLine, TEST_NOTE } from "./render.ts";

const HOST =
  /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+|[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?)$/;
const address = z.email({ error: "must be an e-mail address" }).max(254, "is too long");

export const DEFAULT_PORTS = { tls: 465, starttls: 587, none: 25 } as const;

export const emailConfig = z.object({
  host: textField().max(253, "is too long").regex(
    HOST,
    "must be a host name or IP address, without a scheme or port",
  ),
  port: z.number({ error: "must be a whole number" }).int("must be a whole number")
    .min(1, "must be from 1 to 65535").max(65535, "must be from 1 to 65535").optional(),
  security: z.enum(["tls", "starttls", "none"], {
    error: 'must be "tls", "starttls" or "none"',
  }),
  username: z.string().min(1, "must not be empty").max(256, "is too long").nullable()
    .default(null),
  password: z.string().min(1, "must not be empty").max(1024, "is too long").nullable()
    .default(null),
  from: address,
  to: z.union([address, z.array(address).min(1, "must name a recipient").max(20, "has over 20")], {
    error: "must be an e-mail address or a list of them",
  }),
}).strict().transform((config) => ({
  ...config,
  port: config.port ?? DEFAULT_PORTS[config.security],
  to: Array.isArray(config.to) ? config.to : [config.to],
}));
export type EmailConfig = z.output<typeof emailConfig>;

export function checkEmailConfig(config: EmailConfig, rules: { allowPrivateNetworks: boolean }) {
  if (config.security === "none" && !rules.allowPrivateNetworks) {
    throw new ValidationError(
      'config.security "none" sends mail and passwords unencrypted: use "tls" or "starttls" ' +
        "(a local relay may use none when HIBIKI_ALLOW_PRIVATE_NETWORKS=1)",
      "config",
    );
  }
  if ((config.username === null) !== (config.password === null)) {
    throw new ValidationError(
      "config.username and config.password go together: give both or neither",
      "config",
    );
  }
  try {
    vetUrlWithoutDns(hostUrl(config.host), { allowPrivate: rules.allowPrivateNetworks });
  } catch (error) {
    if (!(error instanceof BlockedAddressError)) throw error;
    throw new ValidationError(
      `config.host points to a ${error.reason} address, which is refused ` +
        "(set HIBIKI_ALLOW_PRIVATE_NETWORKS=1 and restart Hibiki to allow private networks)",
      "config",
    );
  }
}

/** The host as a URL, so the SSRF guard judges it as it judges any other. */
function hostUrl(host: string): URL {
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return new URL(`https://${bracketed}/`);
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

export function renderEmail(message: AlertMessage, now: number): EmailMessage {
  const subject = `[Hibiki] ${oneLine(headline(message).replace(/^\S+\s/, ""), 200)}`;
  if (message.kind === "certificate.expiring") return emailCertificate(message, subject);
  const items = message.items.map((item) => itemFacts(message, item, now));
  const text: string[] = [];
  const html: string[] = [];
  if (message.kind === "test") {
    text.push(TEST_NOTE, "");
    html.push(`<p><strong>${escapeHtml(TEST_NOTE)}</strong></p>`);
  }
  for (const facts of items) {
    const lines = [
      `${facts.symbol} ${facts.name} is ${facts.state}`,
      `Cause: ${facts.cause}`,
      `When: ${facts.timing}`,
    ];
    if (facts.locations) lines.push(`Failed at: ${facts.locations}`);
    lines.push(`Open: ${facts.link}`);
    text.push(...lines, "");
    html.push(
      `<p>${facts.symbol} <a href="${escapeHtml(facts.link)}"><strong>${
        escapeHtml(facts.name)
      }</strong></a> is ${escapeHtml(facts.state)}<br>` +
        `Cause: ${escapeHtml(facts.cause)}<br>When: ${escapeHtml(facts.timing)}` +
        (facts.locations ? `<br>Failed at: ${escapeHtml(facts.locations)}` : "") + "</p>",
    );
  }
  text.push("— Hibiki");
  html.push(`<p style="color:#667085">— Hibiki</p>`);
  return { subject, text: text.join("\n"), html: html.join("\n") };
}

function emailCertificate(message: CertificateMessage, subject: string): EmailMessage {
  const facts = certificateFacts(message);
  const lead = `${facts.name}: its certificate expires in ${facts.left}`;
  const text = [
    `${facts.symbol} ${lead}`,
    `Valid until: ${facts.validTo}`,
    `Subject: ${facts.subject}`,
    `Issuer: ${facts.issuer}`,
    `Open: ${facts.link}`,
    "",
    "— Hibiki",
  ].join("\n");
  const html = [
    `<p>${facts.symbol} <a href="${escapeHtml(facts.link)}"><strong>${
      escapeHtml(facts.name)
    }</strong></a>: its certificate expires in ${escapeHtml(facts.left)}<br>` +
    `Valid until: ${escapeHtml(facts.validTo)}<br>Subject: ${escapeHtml(facts.subject)}<br>` +
    `Issuer: ${escapeHtml(facts.issuer)}</p>`,
    `<p style="color:#667085">— Hibiki</p>`,
  ].join("\n");
  return { subject, text, html };
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

export async function sendEmail(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const config = channel.config as EmailConfig;
  const secrets = config.password ? [config.password] : [];
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // Saved while private networks were allowed; not sent in the clear once they are not.
  if (config.security === "none" && !context.allowPrivate) {
    return notSent(
      'Cannot send mail unencrypted: security "none" needs HIBIKI_ALLOW_PRIVATE_NETWORKS=1',
      true,
    );
  }
  let connectTo: string;
  try {
    const vetted = await vetUrl(hostUrl(config.host), {
      allowPrivate: context.allowPrivate,
      resolve: context.resolve,
      isBlocked: context.isBlocked,
    });
    // Nothing was checked with private networks allowed: nodemailer resolves the name itself.
    connectTo = vetted.address ?? config.host.replace(/^\[|\]$/g, "");
  } catch (error) {
    if (error instanceof BlockedAddressError) {
      const where = error.address ? `address ${error.address}` : `host ${config.host}`;
      return {
        ...notSent(`Cannot connect to SMTP host ${config.host}: ${where} is ${error.reason}`, true),
        durationMs: elapsed(),
      };
    }
    if (error instanceof DnsError) {
      return { ...notSent(error.message, false), durationMs: elapsed() };
    }
    throw error;
  }
  const servername = config.host.replace(/^\[|\]$/g, "");
  // Loaded at the first mail: most processes never send one, and nodemailer is ~150 modules.
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport({
    host: connectTo,
    port: config.port,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    servername,
    name: context.heloName,
    auth: config.username && config.password
      ? { user: config.username, pass: config.password }
      : undefined,
    tls: {
      servername,
      minVersion: "TLSv1.2",
      ...(context.smtpCa ? { ca: context.smtpCa } : {}),
    },
    connectionTimeout: context.smtpTimeoutMs,
    greetingTimeout: context.smtpTimeoutMs,
    socketTimeout: context.smtpTimeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const rendered = renderEmail(message, context.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error: SmtpError = new Error(`Timed out after ${context.smtpTimeoutMs} ms`);
      error.code = "ETIMEDOUT";
      reject(error);
    }, context.smtpTimeoutMs);
  });
  try {
    const info = await Promise.race([
      transport.sendMail({
        from: config.from,
        to: config.to,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        disableFileAccess: true,
        disableUrlAccess: true,
      }),
      deadline,
    ]);
    const reply = String(info.response ?? "");
    const rejected = (info.rejected ?? []).map(String);
    return {
      success: true,
      status: replyCode(reply),
      durationMs: elapsed(),
      error: rejected.length ? `Refused recipients: ${rejected.join(", ")}` : null,
      response: scrub(reply, secrets).slice(0, RESPONSE_BYTES),
      permanent: false,
      retryAfterMs: null,
    };
  } catch (caught) {
    const error = caught as SmtpError;
    const status = error.responseCode ?? 0;
    return {
      success: false,
      status,
      durationMs: elapsed(),
      error: scrub(`Cannot send mail via ${config.host}: ${error.message}`, secrets).slice(0, 500),
      response: scrub(error.response ?? "", secrets).slice(0, RESPONSE_BYTES),
      // 5xx: the server refused for good (a recipient, the sender, the credentials).
      permanent: status >= 500 || error.code === "EAUTH",
      retryAfterMs: null,
    };
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}

/** `250` of `250 2.0.0 Ok: queued as …`; 0 when the reply has no code. */
function replyCode(reply: string): number {
  const match = /^(\d{3})/.exec(reply);
  return match ? Number(match[1]) : 0;
}
