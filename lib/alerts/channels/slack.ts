/**
 * `slack` channels: a Slack incoming webhook. `text` is the notification's line (what a phone
 * shows); `blocks` lay the message out: a header, one section per job (its link, state,
 * cause, timing), a context line. Slack's limits: a header's text at most 150 characters, a
 * section's 3,000, at most 50 blocks; a certificate warning is a header and one section (the
 * job's link, days left, valid until, subject, issuer); mrkdwn needs `&`, `<` and `>` escaped. Slack answers
 * 200 `ok`, or an error word with 400 (`invalid_payload`), 403 (`action_prohibited`), 404
 * (`no_service`, `channel_not_found`) or 410 (`channel_is_archived`).
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import type { TargetUrlRules } from "../../net/target_url.ts";
import { checkTargetUrl } from "../../net/target_url.ts";
import type { AlertMessage, CertificateMessage, Channel, SendOutcome } from "../types.ts";
import { postJson, type SendContext, urlSecrets } from "./http_post.ts";
import { certificateFacts, headline, itemFacts, TEST_NOTE, truncate } from "./render.ts";

export const slackConfig = z.object({
  webhookUrl: textField().max(2048, "is too long"),
}).strict();
export type SlackConfig = z.output<typeof slackConfig>;

export function checkSlackConfig(config: SlackConfig, rules: TargetUrlRules): void {
  checkTargetUrl(config.webhookUrl, { ...rules, label: "config.webhookUrl", field: "config" });
}

const MAX_HEADER = 150;
const MAX_SECTION = 3000;
/** Sections for jobs; with the header, a "more" line and the context, within Slack's 50. */
const MAX_ITEM_SECTIONS = 40;

interface Block {
  type: string;
  [field: string]: unknown;
}

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** `&`, `<` and `>`, which mrkdwn reads as markup. */
export function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function renderSlack(message: AlertMessage, now: number): SlackMessage {
  if (message.kind === "certificate.expiring") return slackCertificate(message);
  const title = headline(message);
  const blocks: Block[] = [header(title)];
  if (message.kind === "test") {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `*${escapeSlack(TEST_NOTE)}*` } });
  }
  const shown = message.items.slice(0, MAX_ITEM_SECTIONS);
  for (const item of shown) {
    const facts = itemFacts(message, item, now);
    const lines = [
      `${facts.symbol} *<${facts.link}|${escapeSlack(facts.name)}>* is ${facts.state}`,
      `*Cause:* ${escapeSlack(facts.cause)}`,
      `*When:* ${escapeSlack(facts.timing)}`,
    ];
    if (facts.locations) lines.push(`*Failed at:* ${escapeSlack(facts.locations)}`);
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: truncate(lines.join("\n"), MAX_SECTION) },
    });
  }
  const left = message.items.length - shown.length;
  if (left > 0) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `…and ${left} more: <${message.baseUrl}/admin|open Hibiki>`,
      },
    });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: "Sent by Hibiki" }] });
  return { text: title, blocks };
}

function header(title: string): Block {
  return {
    type: "header",
    text: { type: "plain_text", text: truncate(title, MAX_HEADER), emoji: true },
  };
}

function slackCertificate(message: CertificateMessage): SlackMessage {
  const facts = certificateFacts(message);
  const lines = [
    `${facts.symbol} *<${facts.link}|${
      escapeSlack(facts.name)
    }>*: its certificate expires in ${facts.left}`,
    `*Valid until:* ${facts.validTo}`,
    `*Subject:* ${escapeSlack(facts.subject)}`,
    `*Issuer:* ${escapeSlack(facts.issuer)}`,
  ];
  return {
    text: facts.headline,
    blocks: [
      header(facts.headline),
      { type: "section", text: { type: "mrkdwn", text: truncate(lines.join("\n"), MAX_SECTION) } },
      { type: "context", elements: [{ type: "mrkdwn", text: "Sent by Hibiki" }] },
    ],
  };
}

export async function sendSlack(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const { webhookUrl } = channel.config as SlackConfig;
  const posted = await postJson(webhookUrl, renderSlack(message, context.now()), context, {
    service: "Slack",
    strict: true,
    secrets: urlSecrets(webhookUrl),
  });
  return posted.outcome;
}
