/**
 * `discord` channels: a Discord webhook (Execute Webhook). `content` is the line a phone
 * shows; one embed carries the rest: for one job its link, state, cause, timing and
 * locations as fields; for several, one line per job in the description; for a certificate
 * warning (amber), days left, valid until, subject and issuer as fields. Discord's limits:
 * content 2,000 characters; an embed's title 256, description 4,096, a field's name 256 and
 * value 1,024, at most 25 fields, 6,000 characters in all. `allowed_mentions` is empty, so a
 * job named `@everyone` pings nobody. Discord answers 204; a 429 carries `retry_after`
 * (seconds) in its body as well as `Retry-After`.
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import { checkTargetUrl, type TargetUrlRules } from "../../net/target_url.ts";
import type { AlertMessage, CertificateMessage, Channel, SendOutcome } from "../types.ts";
import { postJson, secondsField, type SendContext, urlSecrets } from "./http_post.ts";
import {
  certificateFacts,
  fitBlocks,
  headline,
  itemFacts,
  oneLine,
  TEST_NOTE,
  truncate,
} from "./render.ts";

export const discordConfig = z.object({
  webhookUrl: textField().max(2048, "is too long"),
}).strict();
export type DiscordConfig = z.output<typeof discordConfig>;

export function checkDiscordConfig(config: DiscordConfig, rules: TargetUrlRules): void {
  checkTargetUrl(config.webhookUrl, { ...rules, label: "config.webhookUrl", field: "config" });
}

const RED = 0xd92d20;
const GREEN = 0x12b76a;
const GREY = 0x667085;
const AMBER = 0xf79009;
const MAX_CONTENT = 2000;
const MAX_TITLE = 256;
const MAX_FIELD = 1024;
/** Below the 4,096 of a description, leaving the 6,000 in all ample room for the rest. */
const MAX_LIST = 3500;

interface EmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

export interface DiscordMessage {
  content: string;
  username: string;
  allowed_mentions: { parse: string[] };
  embeds: {
    title: string;
    url?: string;
    description?: string;
    color: number;
    fields?: EmbedField[];
    footer: { text: string };
  }[];
}

/** Markdown Discord would read in a job's name or cause. */
export function escapeDiscord(text: string): string {
  return text.replace(/([\\*_~`|>\[\]()#-])/g, "\\$1");
}

export function renderDiscord(message: AlertMessage, now: number): DiscordMessage {
  if (message.kind === "certificate.expiring") return discordCertificate(message);
  const title = headline(message);
  const anyDown = message.items.some((item) => item.incident.state === "open");
  const color = message.kind === "test" ? GREY : anyDown ? RED : GREEN;
  const base = {
    content: truncate(title, MAX_CONTENT),
    username: "Hibiki",
    allowed_mentions: { parse: [] },
  };
  if (message.items.length === 1) {
    const facts = itemFacts(message, message.items[0], now);
    const fields: EmbedField[] = [
      { name: "State", value: facts.state, inline: true },
      { name: "When", value: truncate(facts.timing, MAX_FIELD), inline: true },
      { name: "Cause", value: truncate(facts.cause || "—", MAX_FIELD) },
    ];
    if (facts.locations) {
      fields.push({ name: "Failed at", value: truncate(facts.locations, MAX_FIELD) });
    }
    return {
      ...base,
      embeds: [{
        title: truncate(`${facts.symbol} ${facts.name}`, MAX_TITLE),
        url: facts.link,
        ...(message.kind === "test" ? { description: TEST_NOTE } : {}),
        color,
        fields,
        footer: { text: "Hibiki" },
      }],
    };
  }
  const lines = message.items.map((item) => {
    const facts = itemFacts(message, item, now);
    return `${facts.symbol} [${escapeDiscord(facts.name)}](${facts.link}) ${facts.state}: ${
      escapeDiscord(oneLine(facts.cause, 200))
    }`;
  });
  return {
    ...base,
    embeds: [{
      title: truncate(title, MAX_TITLE),
      url: `${message.baseUrl}/admin`,
      description: fitBlocks(lines, {
        budget: MAX_LIST,
        separator: "\n",
        more: (left) => `…and ${left} more`,
      }),
      color,
      footer: { text: "Hibiki" },
    }],
  };
}

function discordCertificate(message: CertificateMessage): DiscordMessage {
  const facts = certificateFacts(message);
  return {
    content: truncate(facts.headline, MAX_CONTENT),
    username: "Hibiki",
    allowed_mentions: { parse: [] },
    embeds: [{
      title: truncate(`${facts.symbol} ${facts.name}`, MAX_TITLE),
      url: facts.link,
      color: AMBER,
      fields: [
        { name: "Expires in", value: facts.left, inline: true },
        { name: "Valid until", value: facts.validTo, inline: true },
        { name: "Subject", value: truncate(facts.subject, MAX_FIELD) },
        { name: "Issuer", value: truncate(facts.issuer, MAX_FIELD) },
      ],
      footer: { text: "Hibiki" },
    }],
  };
}

export async function sendDiscord(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const { webhookUrl } = channel.config as DiscordConfig;
  const posted = await postJson(webhookUrl, renderDiscord(message, context.now()), context, {
    service: "Discord",
    strict: true,
    secrets: urlSecrets(webhookUrl),
    retryAfterFromBody: (json) => secondsField((json as { retry_after?: unknown })?.retry_after),
    describe: (json) => {
      const text = (json as { message?: unknown })?.message;
      return typeof text === "string" ? text : null;
    },
  });
  return posted.outcome;
}
