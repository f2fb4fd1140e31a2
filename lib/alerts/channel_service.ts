/**
 * Notification channels as the API and the notification lane use them: create, read, change
 * and delete a user's channels (secrets sealed with the master key, masked when shown, kept
 * when a change sends the mask back), send a sample at once (`test`), and hand the lane a
 * channel with its secrets opened (`opened`, `send`). A `webhook` channel gets its own
 * `whsec_` secret, shown in full only in the answer that creates it.
 */
import { z } from "zod";
import { BoundedCache } from "../bounded_cache.ts";
import type { Clock } from "../clock.ts";
import type { SecretBox } from "../crypto.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import type { ChannelStore } from "../store/channels.ts";
import type { ListOptions } from "../store/store.ts";
import type { Page } from "../store/types.ts";
import { parseBody } from "../validation.ts";
import { maskSecret, newWebhookSecret } from "../webhooks/secrets.ts";
import {
  type Config,
  keepMaskedSecrets,
  maskConfig,
  openConfig,
  parseChannelConfig,
  sealConfig,
} from "./channels/channel_config.ts";
import type { ConfigRules } from "./channels/kinds.ts";
import {
  type AlertMessage,
  type Channel,
  CHANNEL_TYPES,
  type ChannelType,
  type Incident,
  type NotifySend,
  type SendOutcome,
} from "./types.ts";

/** A channel as the API shows it: secrets masked, times in ISO 8601. */
export interface ChannelView {
  id: string;
  userId: string;
  name: string;
  type: ChannelType;
  config: Record<string, unknown>;
  /** `webhook` channels: in full only when just created; masked (`whsec_abc1…`) otherwise. */
  secret: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  /** Since when every send has failed, null when the last one worked. */
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelServiceOptions extends ConfigRules {
  channels: ChannelStore;
  box: SecretBox;
  clock: Clock;
  /** Sends a message to an opened channel (lib/alerts/channels/notify_send.ts). */
  send: NotifySend;
  /** HIBIKI_PUBLIC_URL, for links in test messages. */
  baseUrl: string;
}

const TYPES_TEXT = CHANNEL_TYPES.join(", ");
const name = z.string({ error: "is required" }).trim().min(1, "is required")
  .max(100, "must be at most 100 characters");
const type = z.enum(CHANNEL_TYPES, { error: `must be one of ${TYPES_TEXT}` });
const createSchema = z.object({ name, type, config: z.unknown() }).strict();
const patchSchema = z.object({
  name,
  type,
  config: z.unknown(),
  enabled: z.boolean({ error: "must be true or false" }),
}).partial().strict();

export class ChannelService {
  /** Opening costs an AES-GCM decryption per secret; sends and views reuse the result. */
  private readonly plaintexts = new BoundedCache<string, string>();

  constructor(private readonly options: ChannelServiceOptions) {}

  async list(userId: string, page: ListOptions): Promise<Page<ChannelView>> {
    const found = await this.options.channels.list(userId, page);
    return {
      values: await Promise.all(found.values.map((c) => this.view(c, false))),
      cursor: found.cursor,
    };
  }

  async create(userId: string, body: unknown): Promise<ChannelView> {
    const input = parseBody(createSchema, body);
    if (input.config === undefined) throw new ValidationError("config is required", "config");
    const config = parseChannelConfig(input.type, input.config, this.options);
    const now = this.options.clock.now();
    const id = newChannelId(now);
    const stamp = new Date(now).toISOString();
    const secret = input.type === "webhook" ? newWebhookSecret() : null;
    const channel: Channel = {
      id,
      userId,
      name: input.name,
      type: input.type,
      config: await sealConfig(input.type, config, (value, path) => this.seal(value, id, path)),
      secret: secret === null ? null : await this.seal(secret, id, "secret"),
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      failingSince: null,
      createdAt: stamp,
      updatedAt: stamp,
    };
    await this.options.channels.create(channel);
    return await this.view(channel, true);
  }

  async get(userId: string, channelId: string): Promise<ChannelView> {
    return await this.view(await this.record(userId, channelId), false);
  }

  /**
   * Changes the name, config or `enabled`. `config` is merged over the current one (`null`
   * clears an optional field); a secret sent back masked keeps its stored value. With
   * `ifUpdatedAt` (an edit form's copy), a channel changed since is not saved: ConflictError.
   */
  async update(
    userId: string,
    channelId: string,
    body: unknown,
    options: { ifUpdatedAt?: string } = {},
  ): Promise<ChannelView> {
    const patch = parseBody(patchSchema, body);
    const current = await this.record(userId, channelId);
    const unchanged = (channel: Channel) => {
      if (options.ifUpdatedAt !== undefined && channel.updatedAt !== options.ifUpdatedAt) {
        throw new ConflictError(
          `Cannot save channel "${channel.name}": it was changed meanwhile, reload it and try again`,
        );
      }
    };
    unchanged(current);
    if (patch.type !== undefined && patch.type !== current.type) {
      throw new ValidationError(
        `type cannot be changed from ${current.type} to ${patch.type}: create a new channel`,
        "type",
      );
    }
    let sealed: Config | undefined;
    if (patch.config !== undefined) {
      if (
        typeof patch.config !== "object" || patch.config === null || Array.isArray(patch.config)
      ) {
        throw new ValidationError("config must be an object", "config");
      }
      const opened = await this.openConfigOf(current);
      const merged = {
        ...opened,
        ...keepMaskedSecrets(current.type, patch.config as Config, opened),
      };
      const config = parseChannelConfig(current.type, merged, this.options);
      sealed = await sealConfig(
        current.type,
        config,
        (value, path) => this.seal(value, channelId, path),
      );
    }
    const now = this.options.clock.now();
    const stamp = new Date(now).toISOString();
    const next = await this.options.channels.update(userId, channelId, (channel) => {
      unchanged(channel);
      return {
        ...channel,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(sealed !== undefined ? { config: sealed } : {}),
        ...(patch.enabled === true && !channel.enabled
          ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
          : {}),
        ...(patch.enabled === false && channel.enabled
          ? { enabled: false, disabledReason: "Disabled by the owner", disabledAt: stamp }
          : {}),
        updatedAt: stamp,
      };
    });
    return await this.view(next, false);
  }

  async delete(userId: string, channelId: string): Promise<void> {
    await this.options.channels.delete(userId, channelId);
  }

  /**
   * Sends a sample message (kind `test`) at once, disabled or not, and answers what the
   * receiver said. Nothing is recorded: a test neither starts nor ends a failing streak.
   */
  async test(userId: string, channelId: string): Promise<SendOutcome> {
    const channel = await this.record(userId, channelId);
    const sample = sampleMessage(this.options.baseUrl, this.options.clock.now(), userId);
    return await this.send(channel, sample);
  }

  /** Sends `message` to a stored channel: its secrets opened, then the channel's sender. */
  async send(channel: Channel, message: AlertMessage): Promise<SendOutcome> {
    return await this.options.send(await this.opened(channel), message);
  }

  /** The stored channel with its config and secret opened, as `NotifySend` takes it. */
  async opened(channel: Channel): Promise<Channel> {
    return {
      ...channel,
      config: await this.openConfigOf(channel),
      secret: channel.secret === null
        ? null
        : await this.open(channel.secret, channel.id, "secret"),
    };
  }

  private openConfigOf(channel: Channel): Promise<Config> {
    return openConfig(
      channel.type,
      channel.config,
      (sealed, path) => this.open(sealed, channel.id, path),
    );
  }

  private async record(userId: string, channelId: string): Promise<Channel> {
    const channel = await this.options.channels.get(userId, channelId);
    if (!channel) throw new NotFoundError(`Channel "${channelId}" not found`);
    return channel;
  }

  private async view(channel: Channel, showSecret: boolean): Promise<ChannelView> {
    const opened = await this.opened(channel);
    return {
      id: channel.id,
      userId: channel.userId,
      name: channel.name,
      type: channel.type,
      config: await maskConfig(channel.type, opened.config),
      secret: opened.secret === null
        ? null
        : showSecret
        ? opened.secret
        : maskSecret(opened.secret),
      enabled: channel.enabled,
      disabledReason: channel.disabledReason,
      disabledAt: channel.disabledAt,
      failingSince: channel.failingSince === null
        ? null
        : new Date(channel.failingSince).toISOString(),
      createdAt: channel.createdAt,
      updatedAt: channel.updatedAt,
    };
  }

  /** Each secret is bound to its channel and field: a sealed value moved elsewhere won't open. */
  private seal(value: string, channelId: string, path: string): Promise<string> {
    return this.options.box.seal(value, `channel:${channelId}:${path}`);
  }

  private async open(sealed: string, channelId: string, path: string): Promise<string> {
    const key = `${channelId}:${path}:${sealed}`;
    return this.plaintexts.get(key) ??
      this.plaintexts.set(key, await this.options.box.open(sealed, `channel:${channelId}:${path}`));
  }
}

/** `ch_` + creation time (base 36, sorts as it counts) + 16 random hex digits. */
function newChannelId(now: number): string {
  const random = crypto.getRandomValues(new Uint8Array(8)).toHex();
  return `ch_${now.toString(36).padStart(9, "0")}${random}`;
}

/** What a test sends: one sample job, down for five minutes, clearly not a real one. */
export function sampleMessage(baseUrl: string, now: number, userId: string): AlertMessage {
  const startedAt = new Date(now - 5 * 60_000).toISOString();
  const incident: Incident = {
    id: `test_${crypto.randomUUID().replaceAll("-", "")}`,
    userId,
    jobId: "sample",
    state: "open",
    kind: "down",
    startedAt,
    endedAt: null,
    durationMs: null,
    cause: "Sample cause: expected status 2xx, got 503",
    runIds: [],
    locations: ["local"],
    acknowledgedAt: null,
    acknowledgedBy: null,
    updates: [],
    notificationIds: [],
  };
  return {
    kind: "test",
    baseUrl,
    items: [{
      incident,
      job: { id: "sample", name: "Sample job", url: "https://example.com/health" },
      state: "down",
    }],
  };
}
