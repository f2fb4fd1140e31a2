/** Admin users, their sessions and the sign-in throttle's counts, in Postgres. */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { ListOptions } from "../store.ts";
import type { LoginFailures, Page, Session, User } from "../types.ts";
import type { FailurePair, LoginFailureStore, SessionStore, UserStore } from "../users.ts";
import type { Sql } from "./connect.ts";
import { asJson, page } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

export class PgUserStore implements UserStore {
  constructor(private readonly sql: Sql) {}

  async get(userId: string): Promise<User | null> {
    const [row] = await this.sql`select "user" from public.hibiki_users where id = ${userId}`;
    return (row?.user as User | undefined) ?? null;
  }

  async create(user: User): Promise<void> {
    const inserted = await this.sql`insert into public.hibiki_users (id, "user")
      values (${user.id}, ${asJson(this.sql, user)}) on conflict do nothing`;
    if (inserted.count === 0) {
      throw new ConflictError(`Cannot add user: "${user.id}" already exists`);
    }
  }

  async update(userId: string, change: (user: User) => User): Promise<User> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select "user" from public.hibiki_users where id = ${userId}
        for update`;
      if (!row) throw new NotFoundError(`User "${userId}" not found`);
      const next = change(row.user as User);
      await tx`update public.hibiki_users set "user" = ${asJson(tx, next)}
        where id = ${userId}`;
      return next;
    });
  }

  async put(user: User): Promise<void> {
    await this.sql`insert into public.hibiki_users (id, "user")
      values (${user.id}, ${asJson(this.sql, user)})
      on conflict (id) do update set "user" = excluded."user"`;
  }

  async list(options: ListOptions): Promise<Page<User>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, "user" from public.hibiki_users
      ${after === undefined ? this.sql`` : this.sql`where id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.user as User, (r) => [r.id as string]);
  }

  async anyPassword(): Promise<boolean> {
    const [row] = await this.sql`select exists (select 1 from public.hibiki_users
      where "user"->>'passwordHash' is not null) as any`;
    return row.any as boolean;
  }
}

/** Sessions; expired ones are deleted as new ones are written. */
export class PgSessionStore implements SessionStore {
  constructor(private readonly sql: Sql, private readonly now: () => number) {}

  async put(session: Session): Promise<void> {
    await this.sql`delete from public.hibiki_sessions where expires_at < ${this.now()}`;
    await this.sql`insert into public.hibiki_sessions (id, user_id, session, expires_at)
      values (${session.id}, ${session.userId}, ${asJson(this.sql, session)},
        ${session.expiresAt})
      on conflict (id) do update set user_id = excluded.user_id, session = excluded.session,
        expires_at = excluded.expires_at`;
  }

  async get(sessionId: string): Promise<Session | null> {
    const [row] = await this.sql`select session from public.hibiki_sessions
      where id = ${sessionId}`;
    return (row?.session as Session | undefined) ?? null;
  }

  async delete(session: Session): Promise<void> {
    await this.sql`delete from public.hibiki_sessions where id = ${session.id}`;
  }

  async deleteAllOf(userId: string, options: { keep?: string } = {}): Promise<number> {
    const deleted = await this.sql`delete from public.hibiki_sessions
      where user_id = ${userId} and id <> ${options.keep ?? ""}`;
    return deleted.count;
  }
}

export class PgLoginFailureStore implements LoginFailureStore {
  constructor(private readonly sql: Sql, private readonly now: () => number) {}

  async change<T>(
    names: { pair: string; address: string },
    ttlMs: number,
    change: (current: FailurePair) => { write?: Partial<FailurePair>; result: T },
  ): Promise<T> {
    // Names may hold NUL (user and address are joined by it), which text columns cannot.
    const pair = encodeURIComponent(names.pair);
    const address = encodeURIComponent(names.address);
    return await this.sql.begin(async (tx) => {
      // Both names locked in one order, whether or not their rows exist yet.
      for (const name of [pair, address].sort()) {
        await tx`select pg_advisory_xact_lock(hashtextextended(${`login ${name}`}, 0))`;
      }
      const now = this.now();
      const rows = await tx`select name, count, last_at from public.hibiki_login_failures
        where name in (${pair}, ${address}) and expires_at > ${now}`;
      const read = (name: string): LoginFailures | null => {
        const row = rows.find((r) => r.name === name);
        return row ? { count: row.count as number, lastAt: row.last_at as number } : null;
      };
      const { write, result } = change({ pair: read(pair), address: read(address) });
      for (
        const [name, value] of [[pair, write?.pair], [address, write?.address]] as const
      ) {
        if (value === null) {
          await tx`delete from public.hibiki_login_failures where name = ${name}`;
        } else if (value !== undefined) {
          await tx`insert into public.hibiki_login_failures (name, count, last_at, expires_at)
            values (${name}, ${value.count}, ${value.lastAt}, ${now + ttlMs})
            on conflict (name) do update set count = excluded.count,
              last_at = excluded.last_at, expires_at = excluded.expires_at`;
        }
      }
      return result;
    });
  }
}
