/**
 * Hibiki's one way out to the network. Every request to a URL outside the process goes through
 * `send`: job runs and the probe worker (lib/net/probe.ts), webhook deliveries, inbound relays,
 * and Google's token and Cloud Run APIs (lib/gcp/http.ts). One SSRF story: the URL and every
 * redirect hop are vetted by the guard, and the connection goes to the very address that was
 * vetted, http and https alike, TLS verified against the URL's host name. One deadline for
 * everything (DNS, connect, every hop, the body), one capped body reader, gzip and brotli
 * answers decoded, `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` honoured.
 *
 * Why undici: it does all of that as a maintained library (pooled keep-alive connections,
 * CONNECT proxies, decoding). Measured here (2 shared cores, 20,000 POSTs to a receiver in
 * another thread), main-thread CPU per request: undici's `dispatch` ~27 µs, Deno's `fetch`
 * ~42 µs (and runs read its body through a stream on top), the hand-written HTTP/1.1 client
 * this replaced ~18 µs; on `deno task bench --only=deliveries` the difference is within the
 * run-to-run noise and far inside the targets (README, "Outbound requests").
 */
import { Agent, type Dispatcher, EnvHttpProxyAgent, interceptors } from "undici";
import { classify, type ErrorCategory, NetFailure } from "./net_errors.ts";
import { ipLiteral, type Resolver, vetUrl } from "./ssrf.ts";

export interface OutboundRequest {
  url: string;
  method: string;
  /** Sent as given; the framing and hop-by-hop headers are the client's own. */
  headers: Record<string, string>;
  /** Sent exactly as given: webhook signatures cover these bytes. */
  body: string | Uint8Array | null;
}

export interface SendOptions {
  /** The one deadline: DNS, connect, every redirect hop and the body. */
  timeoutMs: number;
  /** Bytes of (decoded) body kept; the rest is not read. */
  bodyCap: number;
  /** Reach private, loopback and metadata addresses (HIBIKI_ALLOW_PRIVATE_NETWORKS, Google). */
  allowPrivate: boolean;
  /** Redirect hops followed, each vetted again; with 0 (the default) a 3xx is the answer. */
  maxRedirects?: number;
  /** The caller's own abort (deadline, shutdown): `send` then rejects with its reason. */
  signal?: AbortSignal;
  resolve?: Resolver;
  /** Replaces the SSRF address check; only for tests that must reach a loopback server. */
  isBlocked?: (ip: string) => string | null;
  /** Performance clock in ms; default `performance.now`. Called once at start, once at end. */
  now?: () => number;
}

export interface OutboundResult {
  /** HTTP status of the last answer, 0 when none arrived. */
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Uint8Array;
  bodyTruncated: boolean;
  /** Everything, redirects included, integer milliseconds. */
  durationMs: number;
  finalUrl: string;
  redirects: number;
  /** Why no (final) answer came, null when one did. */
  error: { category: ErrorCategory; message: string } | null;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Dropped when a redirect turns the request into a body-less GET, as fetch does.
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language"];
// Credentials must not follow a redirect to another origin.
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];
/** Set by the client, or meaningless for one request on a kept-alive connection. */
const CLIENT_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
  "expect",
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;
/** A body is read past the cap (and dropped) up to this, so its connection can be reused. */
const DRAIN_BYTES = 64 * 1024;
/** Receivers commonly close idle connections after 5 s; reuse stays under that. */
const KEEP_ALIVE_MS = 4_000;
/** The longest deadline a job may have (lib/jobs/job_input.ts); the deadline cuts sooner. */
const MAX_CONNECT_MS = 300_000;

const encoder = new TextEncoder();
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];

interface Client {
  dispatcher: Dispatcher;
  /** Requests go through a proxy, which resolves names itself: nothing to pin. */
  proxied: boolean;
}

let shared: Client | undefined;
/** Extra CA certificates (PEM) for the shared client; tests with their own CA set them. */
let extraCa: string[] | undefined;

function client(): Client {
  if (shared) return shared;
  const proxied = PROXY_VARIABLES.some((name) => !!Deno.env.get(name));
  const options = {
    keepAliveTimeout: KEEP_ALIVE_MS,
    // The caller's deadline bounds every step; undici's own limits would only cut it shorter.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: MAX_CONNECT_MS, ...(extraCa ? { ca: extraCa } : {}) },
  };
  // EnvHttpProxyAgent goes direct for hosts in NO_PROXY; https is tunnelled with CONNECT.
  const base = proxied ? new EnvHttpProxyAgent(options) : new Agent(options);
  // Answers that are not compressed pass the decoder untouched.
  const decoding = base.compose(interceptors.decompress({ skipErrorResponses: false }));
  shared = { dispatcher: decoding, proxied };
  return shared;
}

/** Closes every pooled connection (graceful shutdown, tests); the next send opens new ones. */
export async function closeOutbound(): Promise<void> {
  const closing = shared?.dispatcher;
  shared = undefined;
  await closing?.destroy().catch(() => {});
}

/** Trusts these CA certificates too (PEM), from the next connection on; for tests. */
export async function useExtraCaCerts(certs: string[] | undefined): Promise<void> {
  extraCa = certs;
  await closeOutbound();
}

/**
 * Sends `request` and reads its answer up to the cap. Network problems never throw; they
 * become `error` in the result (with the last status, when a redirect limit was hit).
 *
 * @throws the caller's `signal.reason` when it aborts
 */
export async function send(
  request: OutboundRequest,
  options: SendOptions,
): Promise<OutboundResult> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const maxRedirects = options.maxRedirects ?? 0;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new NetFailure("timeout", `Timed out after ${options.timeoutMs} ms`));
  }, Math.max(0, options.timeoutMs));
  const onCallerAbort = () => controller.abort(options.signal!.reason);
  options.signal?.addEventListener("abort", onCallerAbort, { once: true });
  if (options.signal?.aborted) onCallerAbort();

  const result: OutboundResult = {
    status: 0,
    headers: {},
    body: new Uint8Array(0),
    bodyTruncated: false,
    durationMs: 0,
    finalUrl: request.url,
    redirects: 0,
    error: null,
  };
  let current: URL | null = null;
  try {
    if (!URL.canParse(request.url)) {
      throw new NetFailure("network", `Cannot send request: invalid URL "${request.url}"`);
    }
    let url = new URL(request.url);
    current = url;
    let method = request.method.toUpperCase();
    let body = typeof request.body === "string" ? encoder.encode(request.body) : request.body;
    let headers = requestHeaders(request.headers);
    for (;;) {
      const target = await vetUrl(url, {
        allowPrivate: options.allowPrivate,
        resolve: options.resolve,
        signal: controller.signal,
        isBlocked: options.isBlocked,
      });
      const answer = await exchange(url, target.address, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? null : body,
        cap: options.bodyCap,
        signal: controller.signal,
        // Known before the body: a deadline passed while reading it still reports the status.
        onHead: (status, headers) => {
          result.status = status;
          result.headers = headers;
        },
      });
      const location = answer.headers["location"];
      if (maxRedirects === 0 || !REDIRECT_STATUSES.has(answer.status) || !location) {
        result.body = answer.body;
        result.bodyTruncated = answer.truncated;
        break;
      }
      if (result.redirects >= maxRedirects) {
        throw new NetFailure(
          "redirect",
          `Cannot follow redirect from "${url.href}": more than ${maxRedirects} redirects`,
        );
      }
      if (!URL.canParse(location, url)) {
        throw new NetFailure(
          "redirect",
          `Cannot follow redirect from "${url.href}": invalid location "${location}"`,
        );
      }
      const next = new URL(location, url);
      result.redirects++;
      if (
        (answer.status === 303 && method !== "HEAD") ||
        ((answer.status === 301 || answer.status === 302) && method === "POST")
      ) {
        method = "GET";
        body = null;
        headers = without(headers, BODY_HEADERS);
      }
      if (next.origin !== url.origin) headers = without(headers, CREDENTIAL_HEADERS);
      url = next;
      current = url;
      // The next hop has not answered yet.
      result.status = 0;
      result.headers = {};
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    result.error = timedOut
      ? { category: "timeout", message: `Timed out after ${options.timeoutMs} ms` }
      : classify(error, current ?? new URL("about:blank"));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCallerAbort);
    result.finalUrl = current?.href ?? request.url;
    result.durationMs = Math.round(now() - start);
  }
  return result;
}

/** The caller's headers, checked, without the client's own; names lower-cased. */
function requestHeaders(given: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (!TOKEN.test(name)) {
      throw new NetFailure(
        "network",
        `Cannot send request: invalid header name ${JSON.stringify(name)}`,
      );
    }
    if (UNSAFE_VALUE.test(value)) {
      throw new NetFailure(
        "network",
        `Cannot send request: invalid value for header ${JSON.stringify(name)}`,
      );
    }
    const lower = name.toLowerCase();
    if (!CLIENT_HEADERS.has(lower)) headers[lower] = value;
  }
  headers["accept-encoding"] ??= "gzip, br";
  return headers;
}

function without(headers: Record<string, string>, names: string[]): Record<string, string> {
  const out = { ...headers };
  for (const name of names) delete out[name];
  return out;
}

interface Hop {
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  cap: number;
  signal: AbortSignal;
  onHead: (status: number, headers: Record<string, string>) => void;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  truncated: boolean;
}

/** One request on a pooled connection to `address` (the vetted one), or by name when null. */
function exchange(url: URL, address: string | null, hop: Hop): Promise<Answer> {
  const { dispatcher, proxied } = client();
  const headers = { ...hop.headers, host: url.host };
  let origin = url.origin;
  let servername: string | undefined;
  // Pinned: the socket goes to the vetted address, so a second lookup (DNS rebinding) cannot
  // swap in another; TLS still checks the certificate against the URL's host name. Behind a
  // proxy the proxy resolves the name: the guard has vetted it, the proxy is trusted with it.
  if (address !== null && !proxied && ipLiteral(url.hostname) === null) {
    const host = address.includes(":") ? `[${address}]` : address;
    origin = `${url.protocol}//${host}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
    servername = url.hostname;
  }
  return new Promise<Answer>((resolve, reject) => {
    const handler = new CappedHandler(hop, resolve, reject);
    if (hop.signal.aborted) return handler.fail(hop.signal.reason);
    hop.signal.addEventListener("abort", handler.onAbort, { once: true });
    dispatcher.dispatch(
      {
        origin,
        path: url.pathname + url.search,
        method: hop.method as Dispatcher.HttpMethod,
        headers,
        body: hop.body,
        servername,
      } as Dispatcher.DispatchOptions,
      handler,
    );
  });
}

/** Stops reading a body that went on past the cap and the drain allowance. */
class StopReading extends Error {}

/** Keeps the first `cap` bytes of the answer; settles once, whatever undici calls after. */
class CappedHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private headers: Record<string, string> = {};
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  private seen = 0;
  private settled = false;

  private readonly cap: number;
  private readonly signal: AbortSignal;

  constructor(
    private readonly hop: Hop,
    private readonly done: (answer: Answer) => void,
    private readonly failed: (error: unknown) => void,
  ) {
    this.cap = hop.cap;
    this.signal = hop.signal;
  }

  readonly onAbort = (): void => {
    this.controller?.abort(this.signal.reason);
    this.fail(this.signal.reason);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Aborted while it waited for a connection: undici starts it only now.
    if (this.settled) controller.abort(this.signal.reason ?? new StopReading());
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = status;
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) {
        this.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
    }
    this.hop.onHead(status, this.headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    this.seen += chunk.length;
    if (this.keptBytes < this.cap) {
      const part = chunk.subarray(0, this.cap - this.keptBytes);
      this.kept.push(part.slice());
      this.keptBytes += part.length;
    }
    // Too long to read through for the connection's sake: keep what is wanted, drop the rest.
    if (this.seen > Math.max(this.cap, DRAIN_BYTES)) {
      this.succeed();
      controller.abort(new StopReading());
    }
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener("abort", this.onAbort);
    this.failed(error);
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener("abort", this.onAbort);
    const body = new Uint8Array(this.keptBytes);
    let offset = 0;
    for (const part of this.kept) {
      body.set(part, offset);
      offset += part.length;
    }
    this.done({
      status: this.status,
      headers: this.headers,
      body,
      truncated: this.seen > this.keptBytes,
    });
  }
}
