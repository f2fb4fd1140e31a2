/**
 * Slows down guessing: after a few failed sign-ins of one user from one address (or many from
 * one address), further attempts are refused until a wait that doubles with each failure has
 * passed. Failures are counted in the store so every process sees them, and forgotten after a
 * quiet quarter of an hour. Each failure is logged with the user and address, never the
 * password.
 *
 * An attempt is counted as a failure before its password is checked, in one compare-and-set
 * with the check of the count: checking first and counting after the (slow) password hash
 * let a burst of concurrent guesses all pass the check before any of them was counted. A
 * sign-in that succeeds gives its count back, so only more than 20 sign-ins from one address
 * in flight at the same moment could be slowed down by each other.
 */
import type { LoginFailures as Failures } from "../store/types.ts";
import type { LoginFailureStore } from "../store/users.ts";

const WINDOW_MS = 15 * 60_000;
const MAX_WAIT_MS = 15 * 60_000;
const FREE_PER_USER = 5;
const FREE_PER_ADDRESS = 20;
/** User names longer than any real one are cut, so the name stays within a key's size. */
const MAX_USER_IN_KEY = 100;
const KEPT_MS = WINDOW_MS + MAX_WAIT_MS;

/** One sign-in attempt: refused while `waitMs` > 0, else already counted as a failure. */
export interface Attempt {
  userId: string;
  address: string;
  waitMs: number;
  /** Failures in a row of this user from this address, this attempt included. */
  failures: number;
}

export class LoginThrottle {
  constructor(private readonly store: LoginFailureStore, private readonly now: () => number) {}

  /** Refuses the attempt (`waitMs` > 0) or counts it as a failure until `succeeded`. */
  async begin(userId: string, address: string): Promise<Attempt> {
    return await this.store.change(
      this.names(userId, address),
      KEPT_MS,
      ({ pair, address: ip }) => {
        const now = this.now();
        const waitMs = Math.max(wait(pair, FREE_PER_USER, now), wait(ip, FREE_PER_ADDRESS, now));
        if (waitMs > 0) return { result: { userId, address, waitMs, failures: pair?.count ?? 0 } };
        const nextPair = counted(pair, now);
        return {
          write: { pair: nextPair, address: counted(ip, now) },
          result: { userId, address, waitMs: 0, failures: nextPair.count },
        };
      },
    );
  }

  /** Logs a wrong password; `begin` has counted it already. */
  failed(attempt: Attempt): void {
    console.warn(
      `Failed sign-in for user ${JSON.stringify(attempt.userId.slice(0, 64))} from ` +
        `${attempt.address}: ${attempt.failures} in a row`,
    );
  }

  /** Forgets the user's failures from the address, and gives the address its attempt back. */
  async succeeded(attempt: Attempt): Promise<void> {
    const names = this.names(attempt.userId, attempt.address);
    await this.store.change(names, KEPT_MS, ({ address }) => ({
      write: address && address.count > 0
        ? { pair: null, address: { ...address, count: address.count - 1 } }
        : { pair: null },
      result: undefined,
    }));
  }

  private names(userId: string, address: string): { pair: string; address: string } {
    const user = userId.slice(0, MAX_USER_IN_KEY);
    return { pair: `${user}\u0000${address}`, address: `\u0000${address}` };
  }
}

/** The count after one more failure; failures older than the window are forgotten. */
function counted(failures: Failures | null, now: number): Failures {
  const fresh = failures !== null && now - failures.lastAt <= WINDOW_MS;
  return { count: fresh ? failures.count + 1 : 1, lastAt: now };
}

function wait(failures: Failures | null, free: number, now: number): number {
  if (!failures) return 0;
  if (now - failures.lastAt > WINDOW_MS) return 0;
  if (failures.count < free) return 0;
  const wait = Math.min(MAX_WAIT_MS, 1000 * 2 ** (failures.count - free));
  return Math.max(0, failures.lastAt + wait - now);
}
