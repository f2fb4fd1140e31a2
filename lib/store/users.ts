/** The contract for admin users, their sign-in sessions and the sign-in throttle's counts. */
import type { ListOptions } from "./store.ts";
import type { LoginFailures, Page, Session, User } from "./types.ts";

export interface UserStore {
  get(userId: string): Promise<User | null>;
  /** Throws ConflictError when a user with that id exists. */
  create(user: User): Promise<void>;
  /** Compare-and-set change; `change` may run more than once. Throws NotFoundError. */
  update(userId: string, change: (user: User) => User): Promise<User>;
  /** Writes the user whether or not it exists (the operator's bootstrap). */
  put(user: User): Promise<void>;
  list(options: ListOptions): Promise<Page<User>>;
  /** Whether any user has a password. */
  anyPassword(): Promise<boolean>;
}

export interface SessionStore {
  /** Stores a session, and lists it under its user, until `expiresAt`. */
  put(session: Session): Promise<void>;
  /** The session by id, or null; it may have expired a moment ago (check `expiresAt`). */
  get(sessionId: string): Promise<Session | null>;
  delete(session: Session): Promise<void>;
  /** Deletes every session of a user except `keep`; returns how many. */
  deleteAllOf(userId: string, options?: { keep?: string }): Promise<number>;
}

/** Counts as `LoginFailureStore.change` sees and leaves them; null: none (or delete). */
export interface FailurePair {
  /** Of one user from one address. */
  pair: LoginFailures | null;
  /** Of the address, for any user. */
  address: LoginFailures | null;
}

export interface LoginFailureStore {
  /**
   * Compare-and-set change of two counts kept `ttlMs` after each write: `change` sees both
   * and returns their new values (`write`: null deletes, absent leaves as is; no `write`,
   * nothing is written) and a result; it may run more than once, and the last run's result
   * is returned.
   */
  change<T>(
    names: { pair: string; address: string },
    ttlMs: number,
    change: (current: FailurePair) => { write?: Partial<FailurePair>; result: T },
  ): Promise<T>;
}
