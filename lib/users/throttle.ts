/**
 * Slows down guessing: after a few failed sign-ins of one user from one address (or many from
 * one address), further attempts are refused until a wait that doubles with each failure has
 * passed. Failures are counted in Deno KV so every process sees them, and forgotten after a
 * quiet quarter of an hour. Each failure is logged with the user and address, never the
 * password.
 */
import { kvKeys } from "../store/kv_keys.ts";

const WINDOW_MS = 15 * 60_000;
const MAX_WAIT_MS = 15 * 60_000;
const FREE_PER_USER = 5;
const FREE_PER_ADDRESS = 20;

interface Failures {
  count: number;
  lastAt: number;
}

export class LoginThrottle {
  constructor(private readonly kv: Deno.Kv, private readonly now: () => number) {}

  /** Milliseconds to wait before the next attempt is considered; 0 when it may go ahead. */
  async waitMs(userId: string, address: string): Promise<number> {
    const [pair, ip] = await this.kv.getMany<[Failures, Failures]>([
      kvKeys.loginFailures(`${userId}\u0000${address}`),
      kvKeys.loginFailures(`\u0000${address}`),
    ]);
    return Math.max(this.wait(pair.value, FREE_PER_USER), this.wait(ip.value, FREE_PER_ADDRESS));
  }

  async failed(userId: string, address: string): Promise<void> {
    const now = this.now();
    let count = 0;
    for (const what of [`${userId}\u0000${address}`, `\u0000${address}`]) {
      const key = kvKeys.loginFailures(what);
      const current = (await this.kv.get<Failures>(key)).value;
      const next = { count: (current?.count ?? 0) + 1, lastAt: now };
      await this.kv.set(key, next, { expireIn: WINDOW_MS + MAX_WAIT_MS });
      count ||= next.count;
    }
    console.warn(
      `Failed sign-in for user ${JSON.stringify(userId.slice(0, 64))} from ${address}: ` +
        `${count} in a row`,
    );
  }

  async succeeded(userId: string, address: string): Promise<void> {
    await this.kv.delete(kvKeys.loginFailures(`${userId}\u0000${address}`));
  }

  private wait(failures: Failures | null, free: number): number {
    if (!failures) return 0;
    const now = this.now();
    if (now - failures.lastAt > WINDOW_MS) return 0;
    if (failures.count < free) return 0;
    const wait = Math.min(MAX_WAIT_MS, 1000 * 2 ** (failures.count - free));
    return Math.max(0, failures.lastAt + wait - now);
  }
}
