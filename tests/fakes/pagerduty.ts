/**
 * A stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`) on 127.0.0.1, checking what
 * PagerDuty checks: a JSON body, a `routing_key` of 32 characters, `event_action` one of
 * trigger/acknowledge/resolve, a `dedup_key` (required to acknowledge or resolve, made up for
 * a trigger without one), and for a trigger `payload.summary` (at most 1,024 characters),
 * `payload.source` and `payload.severity` (critical, error, warning or info). Answers 202
 * `{ status: "success", message, dedup_key }` or 400 `{ status: "invalid event", errors }`,
 * and keeps PagerDuty's alerts by `dedup_key` so tests see them open and resolve.
 */

const ACTIONS = ["trigger", "acknowledge", "resolve"];
const SEVERITIES = ["critical", "error", "warning", "info"];

export interface PagerDutyEventSeen {
  routing_key: string;
  event_action: string;
  dedup_key: string;
  payload?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface FakePagerDuty {
  /** The API base, for HIBIKI_PAGERDUTY_API_URL. */
  url: string;
  events: PagerDutyEventSeen[];
  /** Alerts by dedup key: triggered (with how many triggers) or resolved. */
  alerts: Map<string, { state: "triggered" | "acknowledged" | "resolved"; triggers: number }>;
  /** Answers the next request with this status instead (e.g. 429 or 500). */
  failNext(status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function startFakePagerDuty(): FakePagerDuty {
  const events: PagerDutyEventSeen[] = [];
  const alerts: FakePagerDuty["alerts"] = new Map();
  const scripted: { status: number; headers?: Record<string, string> }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    if (new URL(request.url).pathname !== "/v2/enqueue") {
      return Response.json({ status: "not found" }, { status: 404 });
    }
    const next = scripted.shift();
    if (next) {
      return Response.json({ status: "error", message: "Scripted failure" }, {
        status: next.status,
        headers: next.headers,
      });
    }
    let event: Record<string, unknown>;
    try {
      event = await request.json();
    } catch {
      return invalid(["Event object is not valid JSON"]);
    }
    const errors: string[] = [];
    const key = event.routing_key;
    if (typeof key !== "string" || key.length !== 32) {
      errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    }
    const action = event.event_action;
    if (typeof action !== "string" || !ACTIONS.includes(action)) {
      errors.push(
        "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
      );
    }
    let dedupKey = event.dedup_key;
    if (dedupKey !== undefined && (typeof dedupKey !== "string" || dedupKey.length > 255)) {
      errors.push("'dedup_key' must be a string of at most 255 characters");
    }
    if (action !== "trigger" && typeof dedupKey !== "string") {
      errors.push("'dedup_key' is missing or blank");
    }
    if (action === "trigger") {
      const payload = event.payload as Record<string, unknown> | undefined;
      if (typeof payload !== "object" || payload === null) {
        errors.push("'payload' is missing or blank");
      } else {
        const summary = payload.summary;
        if (typeof summary !== "string" || summary.trim() === "") {
          errors.push("'payload.summary' is missing or blank");
        } else if (summary.length > 1024) {
          errors.push("Length of 'payload.summary' is too long (should be at most 1024)");
        }
        if (typeof payload.source !== "string" || payload.source.trim() === "") {
          errors.push("'payload.source' is missing or blank");
        }
        if (typeof payload.severity !== "string" || !SEVERITIES.includes(payload.severity)) {
          errors.push(
            "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
          );
        }
      }
    }
    if (errors.length) return invalid(errors);
    dedupKey ??= crypto.randomUUID().replaceAll("-", "");
    const seen = { ...event, dedup_key: dedupKey } as PagerDutyEventSeen;
    events.push(seen);
    const alert = alerts.get(dedupKey as string);
    if (action === "trigger") {
      alerts.set(dedupKey as string, {
        state: "triggered",
        triggers: (alert?.triggers ?? 0) + 1,
      });
    } else if (alert) {
      alert.state = action === "resolve" ? "resolved" : "acknowledged";
    }
    return Response.json({ status: "success", message: "Event processed", dedup_key: dedupKey }, {
      status: 202,
    });
  });
  const close = () => server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    events,
    alerts,
    failNext: (status, headers) => scripted.push({ status, headers }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function invalid(errors: string[]): Response {
  return Response.json(
    { status: "invalid event", message: "Event object is invalid", errors },
    { status: 400 },
  );
}
