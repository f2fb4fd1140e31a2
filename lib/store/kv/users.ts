/** Admin users, their sessions and the sign-in throttle's counts, in Deno KV. */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { ListOptions } from "../store.ts";
import type { Page, Session, User } from "../types.ts";
import type { FailurePair, LoginFailureStore, SessionStore, UserStore } from "../users.ts";
import { kvKeys } from "./keys.ts";
import { collect } from "./kv_store.ts";

export class KvUserStore implements UserStore {
  constructor(private readonly kv: Deno.Kv) {}

  async get(userId: string): Promise<User | null> {
    return (await this.kv.get<User>(kvKeys.user(userId))).value;
  }

  async create(user: User): Promise<void> {
    const key = kvKeys.user(user.id);
    const result = await this.kv.atomic().check({ key, versionstamp: null }).set(key, user)
      .commit();
    if (!result.ok) throw new ConflictError(`Cannot add user: "${user.id}" already exists`);
  }

  /** Compare-and-set change; `change` may run more than once. */
  async update(userId: string, change: (user: User) => User): Promise<User> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.kv.get<User>(kvKeys.user(userId));
      if (!entry.value) throw new NotFoundError(`User "${userId}" not found`);
      const next = change(entry.value);
      if ((await this.kv.atomic().check(entry).set(entry.key, next).commit()).ok) return next;
    }
    throw new ConflictError(`Cannot change user "${userId}": too many concurrent changes`);
  }

  /** Writes the user whether or not it exists (the operator's bootstrap). */
  async put(user: User): Promise<void> {
    await this.kv.set(kvKeys.user(user.id), user);
  }

  async list(options: ListOptions): Promise<Page<User>> {
    const iter = this.kv.list<User>(
      { prefix: kvKeys.users() },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  /** Whether any user has a password (else the sign-in page explains how to set one). */
  async anyPassword(): Promise<boolean> {
    for await (const entry of this.kv.list<User>({ prefix: kvKeys.users() }, { limit: 100 })) {
      if (entry.value.passwordHash) return true;
    }
    return false;
  }
}

/** A session record expires with the session, so Deno KV removes it by itself. */
export class KvSessionStore implements SessionStore {
  constructor(private readonly kv: Deno.Kv, private readonly now: () => number) {}

  async put(session: Session): Promise<void> {
    const expireIn = Math.max(1, session.expiresAt - this.now());
    await this.kv.atomic()
      .set(kvKeys.session(session.id), session, { expireIn })
      .set(kvKeys.sessionOf(session.userId, session.id), session.expiresAt, { expireIn })
      .commit();
  }

  async get(sessionId: string): Promise<Session | null> {
    return (await this.kv.get<Session>(kvKeys.session(sessionId))).value;
  }

  async delete(session: Session): Promise<void> {
    await this.kv.atomic()
      .delete(kvKeys.session(session.id))
      .delete(kvKeys.sessionOf(session.userId, session.id))
      .commit();
  }

  async deleteAllOf(userId: string, options: { keep?: string } = {}): Promise<number> {
    let ended = 0;
    for await (const entry of this.kv.list({ prefix: kvKeys.sessionsOf(userId) })) {
      const id = entry.key[2] as string;
      if (id === options.keep) continue;
      await this.kv.atomic().delete(kvKeys.session(id)).delete(entry.key).commit();
      ended++;
    }
    return ended;
  }
}

export class KvLoginFailureStore implements LoginFailureStore {
  constructor(private readonly kv: Deno.Kv) {}

  async change<T>(
    names: { pair: string; address: string },
    ttlMs: number,
    change: (current: FailurePair) => { write?: Partial<FailurePair>; result: T },
  ): Promise<T> {
    const pairKey = kvKeys.loginFailures(names.pair);
    const addressKey = kvKeys.loginFailures(names.address);
    for (;;) {
      const [pair, address] = await this.kv.getMany<[FailurePair["pair"], FailurePair["address"]]>(
        [pairKey, addressKey],
      );
      const { write, result } = change({ pair: pair.value, address: address.value });
      if (!write) return result;
      const op = this.kv.atomic().check(pair, address);
      for (const [key, value] of [[pairKey, write.pair], [addressKey, write.address]] as const) {
        if (value === null) op.delete(key);
        else if (value !== undefined) op.set(key, value, { expireIn: ttlMs });
      }
      if ((await op.commit()).ok) return result;
    }
  }
}
