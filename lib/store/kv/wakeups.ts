/**
 * Wake-ups over the Deno KV queue: the store enqueues them (a claim's fire times, a deleted
 * job's purge) in the same commit as the work, and every process sharing the file listens.
 */
import type { Wakeups } from "../wakeups.ts";

export class KvWakeups implements Wakeups {
  private running = false;

  constructor(private readonly kv: Deno.Kv) {}

  listen(handle: (message: unknown) => Promise<void>): void {
    this.running = true;
    // The listener ends when the KV handle closes (or fails): /healthz says so.
    this.kv.listenQueue(handle).finally(() => {
      this.running = false;
    });
  }

  listening(): boolean {
    return this.running;
  }

  close(): Promise<void> {
    // Closing the KV handle ends the listener; its owner does that after the system stops.
    return Promise.resolve();
  }
}
