/**
 * One JSON POST to a notification service through lib/net/outbound.ts (SSRF guard on every
 * address, one deadline, capped body), and what it came to as a `SendOutcome`: success on a
 * 2xx, a `Retry-After` read as lib/net/retry.ts reads it, and "permanent" for answers that a
 * retry would only repeat (401/403/404/410; for the services Hibiki builds requests for, also
 * 400 and 413: the same bytes are refused the same way again). Secrets that sit in a URL
 * (Slack and Discord webhook paths, Telegram's bot token) are scrubbed from every text kept.
 */
import { send } from "../../net/outbound.ts";
import { parseRetryAfter } from "../../net/retry.ts";
import type { Resolver } from "../../net/ssrf.ts";
import type { SendOutcome } from "../types.ts";

/** What a channel send needs from the process: rules, deadline, clock and the services' bases. */
export interface SendContext {
  /** HIBIKI_ALLOW_PRIVATE_NETWORKS: user URLs (and SMTP hosts) may be private addresses. */
  allowPrivate: boolean;
  /** The deadline of one HTTP send. */
  timeoutMs: number;
  /** The deadline of one SMTP send (connect, TLS, auth and the message). */
  smtpTimeoutMs: number;
  /** Epoch ms (the injected clock). */
  now: () => number;
  telegramApiUrl: string;
  pagerDutyApiUrl: string;
  /** Name given in SMTP's EHLO (the public URL's host). */
  heloName: string;
  /** Extra CA certificates (PEM) trusted for SMTP TLS; tests with their own CA. */
  smtpCa?: string[];
  resolve?: Resolver;
  /** Replaces the SSRF address check; only for tests that reach a loopback server as public. */
  isBlocked?: (ip: string) => string | null;
}

export interface PostOptions {
  /** Names the receiver in errors: `Slack answered 404: no_service`. */
  service: string;
  headers?: Record<string, string>;
  /** A configured service (Telegram, PagerDuty), not a user's URL: no address is refused. */
  trusted?: boolean;
  /** 400 and 413 are final too (services whose requests Hibiki builds itself). */
  strict?: boolean;
  /** Secrets to scrub from errors and the response excerpt. */
  secrets?: string[];
  /** Reads the service's own wait from its answer (Telegram, Discord put it in the body). */
  retryAfterFromBody?: (json: unknown) => number | null;
  /** Bytes of the answer read to parse it (default RESPONSE_BYTES); the excerpt kept is capped. */
  readBytes?: number;
  /** The service's own words for a failure, from its answer. */
  describe?: (json: unknown, text: string) => string | null;
}

/** A posted message's outcome and the answer's parsed JSON (null when none). */
export interface Posted {
  outcome: SendOutcome;
  json: unknown;
}

export const USER_AGENT = "Hibiki-Alerts/1.0";
/** Kept of an answer: enough to show what the receiver said. */
export const RESPONSE_BYTES = 1024;
const ERROR_CHARS = 500;
const PERMANENT = new Set([401, 403, 404, 410]);
const PERMANENT_STRICT = new Set([400, 413]);

/** Posts `body` (a value to send as JSON, or the exact bytes). */
export async function postJson(
  url: string,
  body: unknown,
  context: SendContext,
  options: PostOptions,
): Promise<Posted> {
  // Bytes are sent as given: a webhook's signatures cover exactly them.
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  const result = await send(
    {
      url,
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ...options.headers,
      },
      body: bytes,
    },
    {
      timeoutMs: context.timeoutMs,
      bodyCap: options.readBytes ?? RESPONSE_BYTES,
      allowPrivate: options.trusted === true || context.allowPrivate,
      maxRedirects: 0,
      resolve: context.resolve,
      isBlocked: options.trusted ? undefined : context.isBlocked,
    },
  );
  const secrets = options.secrets ?? [];
  const whole = scrub(
    new TextDecoder().decode(result.body, { stream: result.bodyTruncated }),
    secrets,
  );
  const text = excerpt(whole);
  if (result.error) {
    return {
      outcome: {
        success: false,
        status: result.status,
        durationMs: result.durationMs,
        error: scrub(result.error.message, secrets).slice(0, ERROR_CHARS),
        response: text,
        // A refused address stays refused until the channel is changed.
        permanent: result.error.category === "blocked",
        retryAfterMs: null,
      },
      json: null,
    };
  }
  const json = parseJson(whole);
  const success = result.status >= 200 && result.status < 300;
  const detail = success ? null : options.describe?.(json, text) ?? oneLine(text);
  const retryAfterMs = parseRetryAfter(result.headers["retry-after"], context.now()) ??
    options.retryAfterFromBody?.(json) ?? null;
  return {
    outcome: {
      success,
      status: result.status,
      durationMs: result.durationMs,
      error: success
        ? null
        : `${options.service} answered ${result.status}${detail ? `: ${detail}` : ""}`.slice(
          0,
          ERROR_CHARS,
        ),
      response: text,
      permanent: !success &&
        (PERMANENT.has(result.status) ||
          (options.strict === true && PERMANENT_STRICT.has(result.status))),
      retryAfterMs: success ? null : retryAfterMs,
    },
    json,
  };
}

/** Replaces every secret in `text` with `…`. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.replaceAll(secret, "…");
  }
  return out;
}

/** The secret part of a URL (its path and query), so that errors still name the host. */
export function urlSecrets(url: string): string[] {
  if (!URL.canParse(url)) return [url];
  const parsed = new URL(url);
  const path = parsed.pathname + parsed.search;
  return path.length > 1 ? [path] : [];
}

/** At most RESPONSE_BYTES of UTF-8, cut at a character boundary. */
function excerpt(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= RESPONSE_BYTES) return text;
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_BYTES), { stream: true });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function oneLine(text: string): string | null {
  const line = text.replace(/\s+/g, " ").trim();
  return line ? line.slice(0, 200) : null;
}

/** A seconds field of a JSON answer (`retry_after`), as ms. */
export function secondsField(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Math.ceil(value * 1000)
    : null;
}

/** A failed outcome without a request (nothing was sent). */
export function notSent(error: string, permanent: boolean): SendOutcome {
  return {
    success: false,
    status: 0,
    durationMs: 0,
    error,
    response: "",
    permanent,
    retryAfterMs: null,
  };
}
