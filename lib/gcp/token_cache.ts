/**
 * Access tokens for service accounts: one assertion exchanged at the key's `token_uri`, the
 * token kept per credential id until 5 minutes before it expires. Concurrent callers share
 * one in-flight exchange, so a burst of fires for one credential costs one token request.
 */
import type { Clock } from "../clock.ts";
import { abortable } from "../net/abortable.ts";
import { parseRetryAfter } from "../net/retry.ts";
import { GcpError, GcpTokenError } from "./errors.ts";
import { send } from "./http.ts";
import { createAssertion } from "./jwt.ts";
import type { GcpCredential, ServiceAccountKey } from "./service_account.ts";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;
const DEFAULT_TIMEOUT_MS = 15_000;

/** What the Cloud Run client needs from a token source. */
export interface TokenSource {
  getToken(credential: GcpCredential, options?: { signal?: AbortSignal }): Promise<string>;
  /**
   * Forgets the cached token so the next call exchanges a new assertion. With `rejected`,
   * only that token is forgotten: callers that saw the same 401 do not throw away the
   * replacement another caller already fetched.
   */
  invalidate(credentialId: string, rejected?: string): void;
}

export interface TokenCacheOptions {
  clock: Clock;
  /** Per token request; default 15 s. */
  timeoutMs?: number;
  /** Refresh this long before expiry; default 5 minutes. */
  refreshMarginMs?: number;
}

interface Entry {
  token: string;
  expiresAt: number;
  /** The key the token was issued for: a replaced key under the same id misses the cache. */
  fingerprint: string;
}

function fingerprint(key: ServiceAccountKey): string {
  return `${key.clientEmail}\n${key.privateKeyId}\n${key.tokenUri}`;
}

export class TokenCache implements TokenSource {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #marginMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, { fingerprint: string; promise: Promise<Entry> }>();

  constructor(options: TokenCacheOptions) {
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#marginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  }

  async getToken(
    credential: GcpCredential,
    options: { signal?: AbortSignal } = {},
  ): Promise<string> {
    const print = fingerprint(credential.key);
    const cached = this.#entries.get(credential.id);
    if (
      cached && cached.fingerprint === print &&
      this.#clock.now() < cached.expiresAt - this.#marginMs
    ) {
      return cached.token;
    }
    let flight = this.#inFlight.get(credential.id);
    if (!flight || flight.fingerprint !== print) {
      // Not tied to this caller's signal: other callers share the exchange. Its own timeout
      // bounds it; a caller that gives up early stops waiting below.
      const promise = this.#exchange(credential.key).then(
        (entry) => {
          this.#entries.set(credential.id, entry);
          return entry;
        },
      ).finally(() => {
        if (this.#inFlight.get(credential.id)?.promise === promise) {
          this.#inFlight.delete(credential.id);
        }
      });
      flight = { fingerprint: print, promise };
      this.#inFlight.set(credential.id, flight);
    }
    return (await abortable(flight.promise, options.signal)).token;
  }

  invalidate(credentialId: string, rejected?: string): void {
    const cached = this.#entries.get(credentialId);
    if (cached && (rejected === undefined || cached.token === rejected)) {
      this.#entries.delete(credentialId);
    }
  }

  async #exchange(key: ServiceAccountKey): Promise<Entry> {
    const action = `Cannot get access token for ${key.clientEmail}`;
    const startedAt = this.#clock.now();
    const assertion = await createAssertion(key, { clock: this.#clock });
    const response = await send(key.tokenUri, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
    }, { timeoutMs: this.#timeoutMs, action });

    const body = (response.json ?? {}) as Record<string, unknown>;
    if (response.status !== 200) {
      const code = typeof body.error === "string" ? body.error : null;
      const description = typeof body.error_description === "string"
        ? body.error_description
        : code ?? `HTTP ${response.status}`;
      const retryable = response.status === 429 || response.status >= 500;
      throw new GcpTokenError(`${action}: ${description}`, {
        category: retryable ? (response.status === 429 ? "rate_limited" : "unavailable") : "auth",
        status: response.status,
        retryable,
        retryAfterMs: parseRetryAfter(response.headers["retry-after"], this.#clock.now()),
        googleStatus: code,
      });
    }
    const token = body.access_token;
    const expiresIn = body.expires_in;
    if (typeof token !== "string" || token === "" || typeof expiresIn !== "number") {
      throw new GcpError(`${action}: the token endpoint answered without a token`, {
        category: "protocol",
        status: response.status,
        retryable: false,
      });
    }
    // Counted from before the request, so network time only shortens our view of the lifetime.
    return { token, expiresAt: startedAt + expiresIn * 1000, fingerprint: fingerprint(key) };
  }
}
