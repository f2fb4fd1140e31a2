/**
 * The contract for notification channels (issue 12): one record per channel under its owner,
 * secrets already sealed by the caller (lib/alerts/channel_service.ts). Lists are in id order,
 * which is creation order for the ids Hibiki makes.
 */
import type { Channel } from "../alerts/types.ts";
import type { ListOptions } from "./store.ts";
import type { Page } from "./types.ts";

export interface ChannelStore {
  /** Writes a new channel; ConflictError when one with its id exists. */
  create(channel: Channel): Promise<void>;
  get(userId: string, channelId: string): Promise<Channel | null>;
  /** Several at once (a job's channels), in the order asked, null where none. */
  getMany(userId: string, channelIds: string[]): Promise<(Channel | null)[]>;
  list(userId: string, options: ListOptions): Promise<Page<Channel>>;
  /** Compare-and-set change, retried while others change it. Throws NotFoundError. */
  update(
    userId: string,
    channelId: string,
    change: (channel: Channel) => Channel,
  ): Promise<Channel>;
  /** Throws NotFoundError when there is no such channel. */
  delete(userId: string, channelId: string): Promise<void>;
}
