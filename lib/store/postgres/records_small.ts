/**
 * The small record areas in Postgres: credentials, notification channels and job statistics,
 * each a row per record holding it as json. A change locks the row (`for update`).
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { Channel } from "../../alerts/types.ts";
import type { ChannelStore } from "../channels.ts";
import type { CredentialStore } from "../credentials.ts";
import type { JobStatsStore } from "../stats.ts";
import type { ListOptions } from "../store.ts";
import type { JobStatsRecord, Page, StoredCredential } from "../types.ts";
import type { Sql } from "./connect.ts";
import { asJson, page } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

export class PgCredentialStore implements CredentialStore {
  constructor(private readonly sql: Sql) {}

  async put(credential: StoredCredential): Promise<void> {
    await this.sql`insert into public.hibiki_credentials (user_id, id, credential)
      values (${credential.userId}, ${credential.id}, ${asJson(this.sql, credential)})
      on conflict (user_id, id) do update set credential = excluded.credential`;
  }

  async get(userId: string, id: string): Promise<StoredCredential | null> {
    const [row] = await this.sql`select credential from public.hibiki_credentials
      where user_id = ${userId} and id = ${id}`;
    return (row?.credential as StoredCredential | undefined) ?? null;
  }

  async list(userId: string): Promise<StoredCredential[]> {
    const rows = await this.sql`select credential from public.hibiki_credentials
      where user_id = ${userId} order by id`;
    return rows.map((r) => r.credential as StoredCredential);
  }

  async delete(userId: string, id: string): Promise<void> {
    await this.sql`delete from public.hibiki_credentials where user_id = ${userId} and id = ${id}`;
  }
}

export class PgChannelStore implements ChannelStore {
  constructor(private readonly sql: Sql) {}

  async create(channel: Channel): Promise<void> {
    const inserted = await this.sql`insert into public.hibiki_channels (user_id, id, channel)
      values (${channel.userId}, ${channel.id}, ${asJson(this.sql, channel)})
      on conflict do nothing`;
    if (inserted.count === 0) {
      throw new ConflictError(`Cannot create channel: "${channel.id}" already exists`);
    }
  }

  async get(userId: string, channelId: string): Promise<Channel | null> {
    const [row] = await this.sql`select channel from public.hibiki_channels
      where user_id = ${userId} and id = ${channelId}`;
    return (row?.channel as Channel | undefined) ?? null;
  }

  async getMany(userId: string, channelIds: string[]): Promise<(Channel | null)[]> {
    if (channelIds.length === 0) return [];
    const rows = await this.sql`select c.channel from unnest(${channelIds}::text[])
        with ordinality as k(id, n)
      left join public.hibiki_channels c on c.user_id = ${userId} and c.id = k.id
      order by k.n`;
    return rows.map((r) => (r.channel as Channel | null) ?? null);
  }

  async list(userId: string, options: ListOptions): Promise<Page<Channel>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, channel from public.hibiki_channels
      where user_id = ${userId} ${after === undefined ? this.sql`` : this.sql`and id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.channel as Channel, (r) => [r.id as string]);
  }

  async update(
    userId: string,
    channelId: string,
    change: (channel: Channel) => Channel,
  ): Promise<Channel> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select channel from public.hibiki_channels
        where user_id = ${userId} and id = ${channelId} for update`;
      if (!row) throw new NotFoundError(`Channel "${channelId}" not found`);
      const next = change(row.channel as Channel);
      await tx`update public.hibiki_channels set channel = ${asJson(tx, next)}
        where user_id = ${userId} and id = ${channelId}`;
      return next;
    });
  }

  async delete(userId: string, channelId: string): Promise<void> {
    const deleted = await this.sql`delete from public.hibiki_channels
      where user_id = ${userId} and id = ${channelId}`;
    if (deleted.count === 0) throw new NotFoundError(`Channel "${channelId}" not found`);
  }
}

export class PgJobStatsStore implements JobStatsStore {
  constructor(private readonly sql: Sql) {}

  async get(userId: string, jobIds: string[]): Promise<(JobStatsRecord | null)[]> {
    if (jobIds.length === 0) return [];
    const rows = await this.sql`select s.record from unnest(${jobIds}::text[])
        with ordinality as k(job_id, n)
      left join public.hibiki_job_stats s on s.user_id = ${userId} and s.job_id = k.job_id
      order by k.n`;
    return rows.map((r) => (r.record as JobStatsRecord | null) ?? null);
  }

  async merge(
    jobs: readonly { userId: string; jobId: string }[],
    change: (current: JobStatsRecord | null, index: number) => JobStatsRecord,
  ): Promise<void> {
    if (jobs.length === 0) return;
    // In key order, so merges of overlapping sets lock rows in the same order.
    const order = jobs.map((job, index) => ({ ...job, index }))
      .sort((a, b) =>
        a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.jobId < b.jobId ? -1 : 1
      );
    await this.sql.begin(async (tx) => {
      for (const { userId, jobId, index } of order) {
        // A transaction-scoped lock per record, taken whether or not its row exists yet.
        await tx`select pg_advisory_xact_lock(hashtextextended(${`stats ${userId} ${jobId}`}, 0))`;
        const [row] = await tx`select record from public.hibiki_job_stats
          where user_id = ${userId} and job_id = ${jobId}`;
        const next = change((row?.record as JobStatsRecord | undefined) ?? null, index);
        await tx`insert into public.hibiki_job_stats (user_id, job_id, record)
          values (${userId}, ${jobId}, ${asJson(tx, next)})
          on conflict (user_id, job_id) do update set record = excluded.record`;
      }
    });
  }
}
