/**
 * One request to Google with a timeout and a capped body: the shared plumbing of the token
 * endpoint and the Cloud Run client, over lib/net/outbound.ts like every other request that
 * leaves Hibiki. Google's URLs are trusted (the token URI must be Google's unless private
 * networks are allowed, the Cloud Run URL is configuration), so no address is refused. Never
 * logs; callers must not put secrets in messages.
 */
import { send as sendOut } from "../net/outbound.ts";
import { GcpError } from "./errors.ts";

/** Google's answers are small; a list page with templates stays far below this. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface GoogleResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, or null when the body was empty or not JSON. */
  json: unknown;
  text: string;
}

export interface GoogleRequest {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

export interface SendOptions {
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

/**
 * Sends `request` and reads the whole answer within `timeoutMs`. Throws `GcpError` when no
 * answer arrives; any HTTP status is returned, not thrown (a redirect too: none is followed).
 * The caller's own abort (deadline, shutdown) is passed through untouched.
 */
export async function send(
  url: string,
  request: GoogleRequest,
  options: SendOptions,
): Promise<GoogleResponse> {
  const answer = await sendOut(
    { url, method: request.method, headers: request.headers, body: request.body ?? null },
    {
      timeoutMs: options.timeoutMs,
      // One byte more than allowed tells a full answer from one that is too large.
      bodyCap: MAX_BODY_BYTES + 1,
      allowPrivate: true,
      signal: options.signal,
    },
  );
  if (answer.error) {
    const timedOut = answer.error.category === "timeout";
    const detail = timedOut ? `no answer within ${options.timeoutMs} ms` : answer.error.message;
    if (options.sideEffects) {
      throw new GcpError(
        `${options.action}: ${detail}; the request may have taken effect`,
        { category: "unknown_outcome", status: 0, retryable: true },
      );
    }
    throw new GcpError(`${options.action}: ${detail}`, {
      category: timedOut ? "timeout" : "network",
      status: 0,
      retryable: true,
    });
  }
  if (answer.body.length > MAX_BODY_BYTES) {
    throw new GcpError("Response from Google is too large", {
      category: "protocol",
      status: answer.status,
      retryable: false,
    });
  }
  const text = new TextDecoder().decode(answer.body);
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: answer.status, headers: answer.headers, json, text };
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
