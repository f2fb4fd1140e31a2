/**
 * Hibiki's one way out to the network. Every request to a URL outside the process goes through
 * `send`: job runs and the probe worker (lib/net/probe.ts), webhook deliveries, inbound relays,
 * and Google's token and Cloud Run APIs (lib/gcp/http.ts). One SSRF story: the URL and every
 * redirect hop are vetted by the guard, and the connection goes to the very address that was
 * vetted, http and https alike, TLS verified against the URL's host name. One deadline for
 * everything (DNS, connect, every hop, the body), one capped body reader
 * (lib/net/capped_body.ts; gzip and brotli answers decoded, the cap counting decoded bytes).
 *
 * Transport, chosen by measurement (2 shared cores; README, "Outbound requests"): Hibiki's own
 * HTTP/1.1 client (lib/net/http1_client.ts), ~20 µs of main-thread CPU per request. undici's
 * `Agent` (pinned, ~27 µs raw, ~40 µs through this module) kept delivery throughput but added
 * ~12 µs per delivery, ~55 MB of RSS with 10,000 jobs firing (202 MB, over the 200 MB target)
 * and ~60 ms to start-up; `fetch` costs ~42 µs and cannot pin https. Moving runs from fetch to
 * the own client brought burst and lateness down (~20–40 %) and RSS up (~15 MB, 150 → 165 MB
 * with 10,000 jobs firing, target 200 MB): not the client's own memory but V8's heap growing
 * further between full collections once fetch's buffers no longer started them early; `deno task
 * start` now limits that growth (135 MB; README, "Memory"). Only behind a proxy
 * (`HTTP_PROXY`/`HTTPS_PROXY`) do requests go through `fetch`, which honours those and
 * `NO_PROXY` and tunnels https with CONNECT; the proxy then resolves the name again, so it is
 * trusted with the name the guard vetted.
 */
import { BodyCollector } from "./capped_body.ts";
import { checkHeader, CLIENT_HEADERS, Http1Client } from "./http1_client.ts";
import { classify, type ErrorCategory, NetFailure } from "./net_errors.ts";
import { type Resolver, vetUrl } from "./ssrf.ts";
import type { CertificateReader, ServerCertificate } from "./tls_certificate.ts";

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
  /**
   * Reads an https URL's certificate beside the request (job runs): a handshake of its own to
   * the vetted address, within the same deadline; not behind a proxy.
   */
  certificates?: CertificateReader;
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
  /**
   * With `certificates`, for an https URL: the certificate its host presented (the URL's own,
   * not a redirect target's), whether or not the run trusted it; null when it could not be read.
   */
  certificate?: ServerCertificate | null;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Dropped when a redirect turns the request into a body-less GET, as fetch does.
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language"];
// Credentials must not follow a redirect to another origin.
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

const encoder = new TextEncoder();
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];

/** Whether the process is told to reach the web through a proxy (read once). */
const proxied: () => boolean = (() => {
  let configured: boolean | undefined;
  return () => configured ??= PROXY_VARIABLES.some((name) => !!Deno.env.get(name));
})();

let shared: Http1Client | undefined;
/** Extra CA certificates (PEM) for the shared client; tests with their own CA set them. */
let extraCa: string[] | undefined;

/** The process's client; its idle connections are shared by every lane. */
function client(): Http1Client {
  shared ??= new Http1Client({ caCerts: extraCa });
  return shared;
}

/** Closes every idle connection (graceful shutdown, tests); the next send opens new ones. */
export function closeOutbound(): void {
  shared?.close();
  shared = undefined;
}

/** Trusts these CA certificates too (PEM), from the next connection on; for tests. */
export function useExtraCaCerts(certs: string[] | undefined): void {
  extraCa = certs;
  closeOutbound();
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
  const deadline = performance.now() + options.timeoutMs;
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
  let certificate: ServerCertificate | null | Promise<ServerCertificate | null> | undefined;
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
      if (options.certificates && result.redirects === 0) {
        certificate = readCertificate(url, target.address, options.certificates, deadline);
      }
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
  // Usually read by now (a handshake against a handshake and an exchange); not in the latency.
  if (certificate !== undefined) {
    result.certificate = certificate instanceof Promise ? await certificate : certificate;
  }
  return result;
}

/** Starts reading an https URL's certificate, to be awaited by the deadline; else undefined. */
function readCertificate(
  url: URL,
  address: string | null,
  reader: CertificateReader,
  deadline: number,
): ReturnType<CertificateReader["read"]> | undefined {
  if (url.protocol !== "https:" || proxied()) return undefined;
  const port = url.port ? Number(url.port) : 443;
  return reader.read({ hostname: url.hostname, address, port }, deadline - performance.now());
}

/** The caller's headers, checked, without the client's own; names as given. */
function requestHeaders(given: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    checkHeader(name, value);
    if (!CLIENT_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  return headers;
}

/** `headers` without `names` (lower-case), whatever their case. */
function without(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())),
  );
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

/** One request: over a pooled connection to `address` (the vetted one), or via the proxy. */
async function exchange(url: URL, address: string | null, hop: Hop): Promise<Answer> {
  if (proxied()) return await viaProxy(url, hop);
  // Compression is asked for as fetch asks, unless the caller chose; capped_body.ts decodes.
  const asks = Object.keys(hop.headers).some((name) => name.toLowerCase() === "accept-encoding");
  const response = await client().request({
    url,
    address,
    method: hop.method,
    headers: asks ? hop.headers : { ...hop.headers, "Accept-Encoding": "gzip, br" },
    body: hop.body,
    signal: hop.signal,
    bodyLimit: hop.cap,
    onHead: hop.onHead,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: response.body,
    truncated: response.bodyTruncated,
  };
}

/** Through `fetch`, which honours the proxy settings and decodes the body itself. */
async function viaProxy(url: URL, hop: Hop): Promise<Answer> {
  const response = await fetch(url, {
    method: hop.method,
    headers: hop.headers,
    body: hop.body as BodyInit | null,
    redirect: "manual",
    signal: hop.signal,
  });
  const headers = Object.fromEntries(response.headers);
  hop.onHead(response.status, headers);
  const collector = new BodyCollector(hop.cap);
  if (response.body) {
    const reader = response.body.getReader();
    // A pending read does not always reject when the deadline passes mid-body; cancelling
    // the reader settles it, and the aborted signal is checked below.
    const onAbort = () => reader.cancel().catch(() => {});
    hop.signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (hop.signal.aborted) throw hop.signal.reason;
        if (done || !collector.push(value)) break;
      }
    } finally {
      hop.signal.removeEventListener("abort", onAbort);
      await reader.cancel().catch(() => {});
    }
  }
  return {
    status: response.status,
    headers,
    body: collector.bytes(),
    truncated: collector.truncated,
  };
}
