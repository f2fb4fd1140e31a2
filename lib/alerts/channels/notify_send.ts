/**
 * The one sender of notifications: `createNotifySend(options)` returns the `NotifySend` that
 * the notification lane (and a channel's test) calls with an opened channel and a message; it
 * renders the message in the channel type's format and sends it (lib/alerts/channels/*.ts),
 * and answers a `SendOutcome` whatever happens: it never throws for a failed send.
 */
import type { Clock } from "../../clock.ts";
import type { Resolver } from "../../net/ssrf.ts";
import type { NotifySend } from "../types.ts";
import { notSent, type SendContext } from "./http_post.ts";
import { CHANNEL_KINDS } from "./kinds.ts";

/** One HTTP send: Slack, Discord and the rest answer in well under a second. */
export const CHANNEL_TIMEOUT_MS = 10_000;
/** One SMTP send: connect, TLS, authentication and the message, each a round trip or more. */
export const SMTP_TIMEOUT_MS = 30_000;

export interface NotifySendOptions {
  /** HIBIKI_ALLOW_PRIVATE_NETWORKS. */
  allowPrivateNetworks: boolean;
  /** HIBIKI_TELEGRAM_API_URL and HIBIKI_PAGERDUTY_API_URL, without a trailing slash. */
  telegramApiUrl: string;
  pagerDutyApiUrl: string;
  /** HIBIKI_PUBLIC_URL: its host names Hibiki in SMTP's EHLO. */
  publicUrl: string;
  clock: Clock;
  timeoutMs?: number;
  smtpTimeoutMs?: number;
  /** Extra CA certificates (PEM) for SMTP TLS; tests with their own CA. */
  smtpCa?: string[];
  resolve?: Resolver;
  /** Replaces the SSRF address check; only for tests that reach a loopback server as public. */
  isBlocked?: (ip: string) => string | null;
}

export function createNotifySend(options: NotifySendOptions): NotifySend {
  const context: SendContext = {
    allowPrivate: options.allowPrivateNetworks,
    timeoutMs: options.timeoutMs ?? CHANNEL_TIMEOUT_MS,
    smtpTimeoutMs: options.smtpTimeoutMs ?? SMTP_TIMEOUT_MS,
    now: () => options.clock.now(),
    telegramApiUrl: options.telegramApiUrl,
    pagerDutyApiUrl: options.pagerDutyApiUrl,
    heloName: heloName(options.publicUrl),
    smtpCa: options.smtpCa,
    resolve: options.resolve,
    isBlocked: options.isBlocked,
  };
  return async function notifySend(channel, message) {
    const kind = CHANNEL_KINDS[channel.type];
    if (!kind) return notSent(`Cannot send: unknown channel type "${channel.type}"`, true);
    try {
      return await kind.send(channel, message, context);
    } catch (error) {
      // A sender's own bug must not stop the lane: it is an outcome like any failure.
      const detail = error instanceof Error ? error.message : String(error);
      return notSent(`Cannot send to ${channel.type} channel: ${detail}`.slice(0, 500), false);
    }
  };
}

/** The public URL's host, as SMTP's EHLO wants a name (`localhost` when it has none). */
function heloName(publicUrl: string): string {
  const host = URL.canParse(publicUrl) ? new URL(publicUrl).hostname : "";
  return host.replace(/^\[|\]$/g, "") || "localhost";
}
