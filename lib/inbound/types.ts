/**
 * Inbound webhooks (seed 001): endpoints Hibiki hosts at `POST /hooks/:id`, each with a way to
 * verify its sender, an optional ownership challenge, and an action that runs from a queue
 * after the request has been stored and acknowledged.
 */

export const VERIFICATION_MODES = [
  "none",
  "header_secret",
  "hmac_sha256",
  "standard_webhooks",
  "github",
  "stripe",
] as const;
export type VerificationMode = (typeof VERIFICATION_MODES)[number];

/** How a hook checks its sender; `secret` is plain text here, sealed at rest. */
export type Verification =
  | { mode: "none" }
  /** A named header equals the secret (seed 001's `Secret` header). */
  | { mode: "header_secret"; header: string; secret: string }
  /** HMAC-SHA256 of the raw body keyed with the secret's UTF-8 bytes, in a named header. */
  | {
    mode: "hmac_sha256";
    header: string;
    /** Text before the digest, e.g. `sha256=`. */
    prefix: string;
    encoding: "hex" | "base64";
    secret: string;
  }
  /** `webhook-id`, `webhook-timestamp`, `webhook-signature` over `id.timestamp.body`. */
  | { mode: "standard_webhooks"; secret: string; toleranceSeconds: number }
  /** `X-Hub-Signature-256: sha256=<hex>`. */
  | { mode: "github"; secret: string }
  /** `Stripe-Signature: t=…,v1=…` over `t.body`. */
  | { mode: "stripe"; secret: string; toleranceSeconds: number };

export type RelayAction = {
  type: "relay";
  url: string;
  headers: Record<string, string> | null;
  timeoutMs: number;
};

/** What happens to a verified request once it is stored. */
export type HookAction =
  | { type: "store" }
  | RelayAction
  | { type: "run"; jobId: string };

/** A hook as stored: `verification.secret` and `relaySecret` are sealed with the master key. */
export interface HookRecord {
  /** `hook_<32 hex>`: the public URL's last segment, unguessable. */
  id: string;
  userId: string;
  name: string;
  enabled: boolean;
  verification: Verification;
  challenge: boolean;
  action: HookAction;
  /** Hibiki's own `whsec_` secret that signs relayed requests, sealed; null unless relaying. */
  relaySecret: string | null;
  maxBodyBytes: number;
  createdAt: string;
  updatedAt: string;
}

/** A hook as the API shows it: secrets in full only in the answer that created them. */
export interface HookView {
  id: string;
  /** Where providers send: `/hooks/:id` (the route adds the origin as `url`). */
  path: string;
  name: string;
  enabled: boolean;
  verification: Omit<Verification, "secret"> & { secret?: string };
  challenge: boolean;
  action: HookAction & { secret?: string };
  maxBodyBytes: number;
  /** Requests stored since creation. */
  received: number;
  /** Requests refused because they did not verify. */
  rejected: number;
  createdAt: string;
  updatedAt: string;
}

/** `held`: not run by itself (a conflicting delivery); a replay runs it. */
export type ActionState = "pending" | "succeeded" | "failed" | "held";

export interface ActionAttempt {
  /** 1-based; restarts at 1 after a replay. */
  n: number;
  at: string;
  type: HookAction["type"];
  success: boolean;
  /** HTTP status of the relay target's answer; 0 for other actions or when none came. */
  status: number;
  durationMs: number;
  error: string | null;
  /** What the action did: `stored`, `run <runId>`, the first bytes of the relay's answer. */
  detail: string | null;
}

/** One request a hook received and verified, and what its action did with it. */
export interface InboundEvent {
  /** `evt_<12 hex ms><16 hex random>`: sorts by arrival. */
  id: string;
  hookId: string;
  userId: string;
  receivedAt: string;
  /** When the event and its body are deleted (retention). */
  expiresAt: string;
  /**
   * The provider's delivery id, when it sent one. A repeat of it with the same body is not
   * stored again; one with another body is stored as a conflict.
   */
  deliveryId: string | null;
  /**
   * The event first stored under this delivery id, when this one came with the same id but
   * another body: a sender's bug or a changed event, for a person to look at. Its action is
   * held, not run.
   */
  conflictOf: string | null;
  contentType: string | null;
  /** Request headers, lower-case names, credentials and signatures redacted. */
  headers: Record<string, string>;
  bodySize: number;
  /** The first bytes of the body as UTF-8; the whole body is kept apart for the action. */
  body: string;
  bodyTruncated: boolean;
  /** How many chunks hold the whole body. */
  bodyChunks: number;
  verification: { mode: VerificationMode; verified: boolean };
  action: {
    state: ActionState;
    /** Epoch ms of the next attempt while pending. */
    nextAttemptAt: number | null;
    /** Attempts since arrival or the last replay: indexes the retry schedule. */
    attemptsInRound: number;
    attempts: ActionAttempt[];
  };
}

/**
 * An event as the API shows it: `action.nextAttemptAt` in ISO 8601 like every other time (the
 * record keeps epoch ms, which orders its queue key).
 */
export type InboundEventView = Omit<InboundEvent, "action"> & {
  action: Omit<InboundEvent["action"], "nextAttemptAt"> & { nextAttemptAt: string | null };
};

/** Value of a queued action: where its event is. */
export interface InboundRef {
  hookId: string;
}

/** What the public endpoint answers. */
export type ReceiveResult =
  | { kind: "accepted"; eventId: string }
  | { kind: "duplicate"; eventId: string | null }
  /** Stored as its own event: the delivery id was known with another body. */
  | { kind: "conflict"; eventId: string; conflictOf: string }
  | { kind: "challenge"; challenge: string; shape: "slack" | "plain" }
  | { kind: "rejected"; message: string };

/** Starts a job now with data from the request; implemented by the scheduler's manual fire. */
export type RunJob = (
  userId: string,
  jobId: string,
  options: { payload: unknown; eventId: string },
) => Promise<{ runId: string } | void>;
