/**
 * Wake-ups between processes on Postgres, in place of the Deno KV queue:
 * - `LISTEN hibiki_wake`: a claim commits `NOTIFY hibiki_wake` with the delays of the fires it
 *   leased ahead (claims.ts); each delay becomes a timer that drains every lane then, in every
 *   process listening, as a KV queue message with that delay would.
 * - `LISTEN hibiki_chore`: deleting a job commits `NOTIFY hibiki_chore, 'purge'`, so its runs
 *   go at once; a timer also purges every few minutes, for a notification no process heard
 *   (all of them down at the time). Purging is idempotent: processes may do it together.
 * Without `LISTEN` (Supabase's pooler in transaction mode cannot carry it) only the timer is
 * left; nothing is lost, since every lane drains each second in every process anyway.
 */
import type { Wakeups } from "../wakeups.ts";
import { WAKE_CHANNEL } from "./claims.ts";
import type { Sql } from "./connect.ts";
import { CHORE_CHANNEL } from "./records.ts";

export interface PgWakeupsOptions {
  /** Listen for notifications (off behind a pooler in transaction mode). */
  listen?: boolean;
  /** How often each process purges deleted jobs' runs regardless. */
  purgeEveryMs?: number;
}

const PURGE_EVERY_MS = 5 * 60_000;

export class PgWakeups implements Wakeups {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private interval: ReturnType<typeof setInterval> | null = null;
  private unlisten: Array<() => Promise<void>> = [];
  private channels = 0;
  private closed = false;

  constructor(private readonly sql: Sql, private readonly options: PgWakeupsOptions = {}) {}

  listen(handle: (message: unknown) => Promise<void>): void {
    const hand = (message: unknown) => {
      handle(message).catch((error) =>
        console.error(`Cannot handle wake-up: ${(error as Error).message}`)
      );
    };
    this.interval = setInterval(
      () => hand({ type: "purge" }),
      this.options.purgeEveryMs ?? PURGE_EVERY_MS,
    );
    if (this.options.listen === false) return;
    const on = (channel: string, notified: (payload: string) => void) => {
      // Postgres.js listens on a connection of its own and listens again after a reconnect.
      this.sql.listen(channel, notified, () => {
        this.channels++;
      }).then(
        ({ unlisten }) => {
          if (this.closed) unlisten().catch(() => {});
          else this.unlisten.push(unlisten);
        },
        (error) => console.error(`Cannot listen on ${channel}: ${(error as Error).message}`),
      );
    };
    on(WAKE_CHANNEL, (payload) => {
      for (const delay of payload.split(",").map(Number)) {
        if (!Number.isFinite(delay)) continue;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          hand({ type: "wake" });
        }, Math.max(0, delay));
        this.timers.add(timer);
      }
    });
    on(CHORE_CHANNEL, (payload) => hand({ type: payload }));
  }

  listening(): boolean {
    if (this.closed || this.interval === null) return false;
    return this.options.listen === false || this.channels >= 2;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.interval !== null) clearInterval(this.interval);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.unlisten.splice(0).map((unlisten) => unlisten().catch(() => {})));
  }
}
