/** Users in Deno KV. */
import { ConflictError, NotFoundError } from "../errors.ts";
import { collect } from "../store/kv/kv_store.ts";
import { kvKeys } from "../store/kv/keys.ts";
import type { ListOptions } from "../store/store.ts";
import type { Page } from "../store/types.ts";
import type { User } from "./types.ts";

export class UserStore {
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
