/**
 * Inbound webhooks (seed 001): endpoints Hibiki hosts at `POST /hooks/:id`, each with a way to
 * verify its sender, an optional ownership challenge, and an action that runs from a queue
 * after the request has been stored and acknowledged.
 * The records are the store's (lib/store/types.ts); views and results are this feature's.
 */
import type { HookAction, InboundEvent, Verification } from "../store/types.ts";

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

/**
 * An event as the API shows it: `action.nextAttemptAt` in ISO 8601 like every other time (the
 * record keeps epoch ms, which orders its queue key).
 */
export type InboundEventView = Omit<InboundEvent, "action"> & {
  action: Omit<InboundEvent["action"], "nextAttemptAt"> & { nextAttemptAt: string | null };
};

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
