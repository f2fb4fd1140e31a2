/**
 * One request over Hibiki's own HTTP/1.1 client, for webhook deliveries: the URL vetted by
 * the SSRF guard and the connection made to the vetted address (http and https alike),
 * redirects never followed, one deadline for everything, the response body capped. It
 * answers in the same shape as `probe`, so the two are interchangeable for a caller.
 */
import { Http1Client } from "./http1_client.ts";
import { classify, NetFailure } from "./net_errors.ts";
import {
  DEFAULT_USER_AGENT,
  hasHeader,
  probe,
  type ProbeOptions,
  type ProbeRequest,
  type ProbeResult,
} from "./probe.ts";
import { vetUrl } from "./ssrf.ts";

const DEFAULT_BODY_LIMIT = 16384;
const encoder = new TextEncoder();

let shared: Http1Client | undefined;

/** The process's client; its idle connections are shared by every delivery. */
function client(): Http1Client {
  shared ??= new Http1Client();
  return shared;
}

/** Closes the shared client's idle connections (graceful shutdown, tests). */
export function closePostClient(): void {
  shared?.close();
  shared = undefined;
}

const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];

/** Whether the process is told to reach the web through a proxy (read once). */
export const proxyConfigured: () => boolean = (() => {
  let configured: boolean | undefined;
  return () => configured ??= PROXY_VARIABLES.some((name) => !!Deno.env.get(name));
})();

/**
 * Sends `request` once. Success is a 2xx answer; a redirect is a failure like any other
 * non-2xx status. Network problems never throw; they become a result. Behind a proxy
 * (`HTTP_PROXY`/`HTTPS_PROXY`, with `NO_PROXY`) the request goes through `fetch`, which
 * honours them; this client speaks only directly.
 */
export async function post(
  request: ProbeRequest,
  options: ProbeOptions,
  http: Http1Client = client(),
): Promise<ProbeResult> {
  if (proxyConfigured()) return await probe(request, { ...options, maxRedirects: 0 });
  const now = options.now ?? (() => performance.now());
  const start = now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new NetFailure("timeout", `Timed out after ${request.timeoutMs} ms`));
  }, Math.max(0, request.timeoutMs));
  const result: ProbeResult = {
    success: false,
    code: 0,
    durationMs: 0,
    headers: {},
    body: "",
    bodyTruncated: false,
    error: null,
    failure: null,
    finalUrl: request.url,
    redirects: 0,
  };
  let url: URL | null = null;
  try {
    if (!URL.canParse(request.url)) {
      throw new NetFailure("network", `Cannot send request: invalid URL "${request.url}"`);
    }
    url = new URL(request.url);
    const target = await vetUrl(url, {
      allowPrivate: options.allowPrivate,
      resolve: options.resolve,
      signal: controller.signal,
      isBlocked: options.isBlocked,
    });
    const headers = { ...request.headers };
    if (!hasHeader(headers, "user-agent")) {
      headers["User-Agent"] = options.userAgent ?? DEFAULT_USER_AGENT;
    }
    const body = typeof request.body === "string" ? encoder.encode(request.body) : request.body;
    const response = await http.request({
      url,
      address: target.address,
      method: request.method,
      headers,
      body,
      signal: controller.signal,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    });
    result.code = response.status;
    result.headers = response.headers;
    // `stream: true` drops a character cut in half by the cap instead of emitting U+FFFD.
    result.body = new TextDecoder().decode(response.body, { stream: response.bodyTruncated });
    result.bodyTruncated = response.bodyTruncated;
    result.success = response.status >= 200 && response.status < 300;
    if (!result.success) result.failure = `Expected status 2xx, got ${response.status}`;
  } catch (error) {
    result.error = timedOut
      ? { category: "timeout", message: `Timed out after ${request.timeoutMs} ms` }
      : classify(error, url ?? new URL("about:blank"));
  } finally {
    clearTimeout(timer);
    result.durationMs = Math.round(now() - start);
  }
  return result;
}
