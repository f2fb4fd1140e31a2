/**
 * The channel types in one table: each type's config schema, the checks beyond it (URLs
 * against the SSRF rules, headers), which of its fields are secrets (sealed at rest, masked
 * when shown), and its sender. Adding a type is one module and one row here.
 */
import type { z } from "zod";
import type { TargetUrlRules } from "../../net/target_url.ts";
import type { AlertMessage, Channel, ChannelType, SendOutcome } from "../types.ts";
import { checkDiscordConfig, type DiscordConfig, discordConfig, sendDiscord } from "./discord.ts";
import { checkEmailConfig, type EmailConfig, emailConfig, sendEmail } from "./email.ts";
import type { SendContext } from "./http_post.ts";
import { checkNtfyConfig, type NtfyConfig, ntfyConfig, sendNtfy } from "./ntfy.ts";
import { pagerDutyConfig, sendPagerDuty } from "./pagerduty.ts";
import { checkSlackConfig, sendSlack, type SlackConfig, slackConfig } from "./slack.ts";
import { sendTelegram, telegramConfig } from "./telegram.ts";
import { checkWebhookConfig, sendWebhook, type WebhookConfig, webhookConfig } from "./webhook.ts";

/** What a channel's config is checked against when it is saved. */
export type ConfigRules = TargetUrlRules;

/** How a secret is shown: a URL keeps its origin, a token its first characters, else nothing. */
export type MaskStyle = "url" | "prefix" | "hidden";

export interface ChannelKind {
  schema: z.ZodType;
  /** Fields holding one secret string (or null), with how each is masked. */
  secretFields: Readonly<Record<string, MaskStyle>>;
  /** Fields holding a map whose every value is secret (a webhook's headers). */
  secretMaps: readonly string[];
  /** Checks beyond the schema; throws a ValidationError on the `config` field. */
  check(config: Record<string, unknown>, rules: ConfigRules): void;
  send(channel: Channel, message: AlertMessage, context: SendContext): Promise<SendOutcome>;
}

export const CHANNEL_KINDS: Readonly<Record<ChannelType, ChannelKind>> = {
  webhook: {
    schema: webhookConfig,
    secretFields: {},
    secretMaps: ["headers"],
    check: (config, rules) => checkWebhookConfig(config as WebhookConfig, rules),
    send: sendWebhook,
  },
  slack: {
    schema: slackConfig,
    secretFields: { webhookUrl: "url" },
    secretMaps: [],
    check: (config, rules) => checkSlackConfig(config as SlackConfig, rules),
    send: sendSlack,
  },
  discord: {
    schema: discordConfig,
    secretFields: { webhookUrl: "url" },
    secretMaps: [],
    check: (config, rules) => checkDiscordConfig(config as DiscordConfig, rules),
    send: sendDiscord,
  },
  telegram: {
    schema: telegramConfig,
    secretFields: { botToken: "prefix" },
    secretMaps: [],
    check: () => {},
    send: sendTelegram,
  },
  pagerduty: {
    schema: pagerDutyConfig,
    secretFields: { routingKey: "prefix" },
    secretMaps: [],
    check: () => {},
    send: sendPagerDuty,
  },
  ntfy: {
    schema: ntfyConfig,
    secretFields: { token: "prefix" },
    secretMaps: [],
    check: (config, rules) => checkNtfyConfig(config as NtfyConfig, rules),
    send: sendNtfy,
  },
  email: {
    schema: emailConfig,
    secretFields: { password: "hidden" },
    secretMaps: [],
    check: (config, rules) => checkEmailConfig(config as EmailConfig, rules),
    send: sendEmail,
  },
};
