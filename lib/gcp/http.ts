/**
 * One request to Google with a timeout and a capped body: the shared plumbing of the token
 * endpoint and the Cloud Run client. Never logs; callers must not put secrets in messages.
 */
import { fetchDetail } from "../net/net_errors.ts";
import { GcpError } from "./errors.ts";

/** Google's answers are small; a list page with templates stays far below this. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface GoogleResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null when the body was empty or not JSON. */
  json: unknown;
  text: string;
}

export interface SendOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Describes the request in error messages: `Cannot run job "x"`. */
  action: string;
  /**
   * The request may have taken effect although no answer arrived (a POST that starts
   * something): a timeout or broken connection then becomes `unknown_outcome`.
   */
  sideEffects?: boolean;
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => {});
        throw new GcpError("Response from Google is too large", {
          category: "protocol",
          status: response.status,
          retryable: false,
        });
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Sends `request` and reads the whole answer within `timeoutMs`. Throws `GcpError` when no
 * answer arrives; any HTTP status is returned, not thrown.
 */
export async function send(
  url: string,
  init: RequestInit,
  options: SendOptions,
): Promise<GoogleResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await options.fetch(url, { ...init, signal, redirect: "error" });
    const text = await readCapped(response);
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, json, text };
  } catch (error) {
    if (error instanceof GcpError) throw error;
    // The caller's own abort (deadline, shutdown) is passed through untouched.
    if (options.signal?.aborted) throw options.signal.reason;
    const timedOut = timeout.aborted;
    if (options.sideEffects) {
      throw new GcpError(
        `${options.action}: ${
          timedOut ? `no answer within ${options.timeoutMs} ms` : fetchDetail(error)
        }; the request may have taken effect`,
        { category: "unknown_outcome", status: 0, retryable: true },
        { cause: error },
      );
    }
    if (timedOut) {
      throw new GcpError(
        `${options.action}: no answer within ${options.timeoutMs} ms`,
        { category: "timeout", status: 0, retryable: true },
        { cause: error },
      );
    }
    throw new GcpError(
      `${options.action}: ${fetchDetail(error)}`,
      { category: "network", status: 0, retryable: true },
      { cause: error },
    );
  }
}

/** Google's error text from `{ error: { message, status } }`, else a short body excerpt. */
export function googleError(response: GoogleResponse): { message: string; status: string | null } {
  const body = response.json as { error?: { message?: unknown; status?: unknown } } | null;
  const error = body && typeof body === "object" ? body.error : undefined;
  if (error && typeof error === "object") {
    const message = typeof error.message === "string" ? error.message : `HTTP ${response.status}`;
    return { message, status: typeof error.status === "string" ? error.status : null };
  }
  const excerpt = response.text.trim().slice(0, 200);
  return {
    message: excerpt ? `HTTP ${response.status}: ${excerpt}` : `HTTP ${response.status}`,
    status: null,
  };
}
