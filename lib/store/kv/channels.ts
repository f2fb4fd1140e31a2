/** Notification channels in Deno KV: one key each under their owner. */
import type { Channel } from "../../alerts/types.ts";
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { ChannelStore } from "../channels.ts";
import type { ListOptions } from "../store.ts";
import type { Page } from "../types.ts";
import { getMany } from "./get_many.ts";
import { kvKeys } from "./keys.ts";
import { collect } from "./kv_store.ts";

export class KvChannelStore implements ChannelStore {
  constructor(private readonly kv: Deno.Kv) {}

  async create(channel: Channel): Promise<void> {
    const key = kvKeys.channel(channel.userId, channel.id);
    const result = await this.kv.atomic().check({ key, versionstamp: null }).set(key, channel)
      .commit();
    if (!result.ok) {
      throw new ConflictError(`Cannot create channel: "${channel.id}" already exists`);
    }
  }

  async get(userId: string, channelId: string): Promise<Channel | null> {
    return (await this.kv.get<Channel>(kvKeys.channel(userId, channelId))).value;
  }

  async getMany(userId: string, channelIds: string[]): Promise<(Channel | null)[]> {
    const entries = await getMany(this.kv, channelIds.map((id) => kvKeys.channel(userId, id)));
    return entries.map((entry) => entry.value as Channel | null);
  }

  async list(userId: string, options: ListOptions): Promise<Page<Channel>> {
    const iter = this.kv.list<Channel>(
      { prefix: kvKeys.channelsOf(userId) },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  async update(
    userId: string,
    channelId: string,
    change: (channel: Channel) => Channel,
  ): Promise<Channel> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.kv.get<Channel>(kvKeys.channel(userId, channelId));
      if (!current.value) throw new NotFoundError(`Channel "${channelId}" not found`);
      const next = change(current.value);
      if ((await this.kv.atomic().check(current).set(current.key, next).commit()).ok) return next;
    }
    throw new ConflictError("Cannot update channel: too many concurrent changes");
  }

  async delete(userId: string, channelId: string): Promise<void> {
    const current = await this.kv.get<Channel>(kvKeys.channel(userId, channelId));
    if (!current.value) throw new NotFoundError(`Channel "${channelId}" not found`);
    const result = await this.kv.atomic().check(current).delete(current.key).commit();
    if (!result.ok) {
      throw new ConflictError("Cannot delete channel: it changed meanwhile, try again");
    }
  }
}
