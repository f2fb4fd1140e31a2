/**
 * Wake-ups and chores from other processes (the messages of lib/queue.ts), as each store
 * carries them: the Deno KV queue (lib/store/kv/wakeups.ts), or Postgres `LISTEN/NOTIFY` and
 * a timer (lib/store/postgres/wakeups.ts). Losing or repeating a message changes only timing:
 * the work itself lives in the store, and every lane drains each second anyway.
 */

export interface Wakeups {
  /** Starts handing each message to `handle` (once per process); returns at once. */
  listen(handle: (message: unknown) => Promise<void>): void;
  /** True while messages can arrive (`/healthz`). */
  listening(): boolean;
  /** Stops listening and cancels what is waiting to be handed on. */
  close(): Promise<void>;
}
