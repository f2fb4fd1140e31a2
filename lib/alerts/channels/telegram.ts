/**
 * `telegram` channels: the Bot API's `sendMessage` at
 * `${HIBIKI_TELEGRAM_API_URL}/bot<token>/sendMessage` with `chat_id` and an HTML `text`
 * (Telegram reads only `<b>`, `<a>` and a few more tags; `&`, `<`, `>` are escaped). A text
 * is at most 4,096 characters, so jobs beyond that are counted, not listed. Telegram answers
 * `{ ok: true }` or `{ ok: false, error_code, description }`: 401 for a bad token, 400 for an
 * unknown chat, 403 when the bot was blocked, 429 with `parameters.retry_after`.
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import type { AlertMessage, CertificateMessage, Channel, SendOutcome } from "../types.ts";
import { postJson, secondsField, type SendContext } from "./http_post.ts";
import {
  certificateFacts,
  escapeHtml,
  fitBlocks,
  headline,
  itemFacts,
  TEST_NOTE,
} from "./render.ts";

/** What @BotFather hands out: the bot's id, a colon, 35 characters. */
export const BOT_TOKEN = /^\d+:[A-Za-z0-9_-]{35}$/;

export const telegramConfig = z.object({
  botToken: textField().regex(
    BOT_TOKEN,
    "must be a bot token as @BotFather gives it (123456789:AA…, 35 characters after the colon)",
  ),
  chatId: z.union([
    z.number().int("must be a whole number"),
    z.string().regex(
      /^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$/,
      "must be a chat id (-1001234567890) or a channel's @username",
    ),
  ], { error: "must be a chat id (-1001234567890) or a channel's @username" })
    .transform(String),
}).strict();
export type TelegramConfig = z.output<typeof telegramConfig>;

export const MAX_TEXT = 4096;

export interface TelegramMessage {
  chat_id: string;
  text: string;
  parse_mode: "HTML";
  link_preview_options: { is_disabled: true };
}

export function renderTelegram(
  message: AlertMessage,
  chatId: string,
  now: number,
): TelegramMessage {
  if (message.kind === "certificate.expiring") return telegramCertificate(message, chatId);
  const head = [`<b>${escapeHtml(headline(message))}</b>`];
  if (message.kind === "test") head.push(`<i>${escapeHtml(TEST_NOTE)}</i>`);
  const blocks = message.items.map((item) => {
    const facts = itemFacts(message, item, now);
    const lines = [
      `${facts.symbol} <a href="${escapeHtml(facts.link)}">${
        escapeHtml(facts.name)
      }</a> is ${facts.state}`,
      `Cause: ${escapeHtml(facts.cause)}`,
      `When: ${escapeHtml(facts.timing)}`,
    ];
    if (facts.locations) lines.push(`Failed at: ${escapeHtml(facts.locations)}`);
    return lines.join("\n");
  });
  const header = head.join("\n\n");
  const list = fitBlocks(blocks, {
    budget: MAX_TEXT - header.length - 2,
    separator: "\n\n",
    more: (left) => `…and ${left} more`,
  });
  return {
    chat_id: chatId,
    text: `${header}\n\n${list}`,
    parse_mode: "HTML",
    link_preview_options: { is_disabled: true },
  };
}

function telegramCertificate(message: CertificateMessage, chatId: string): TelegramMessage {
  const facts = certificateFacts(message);
  const lines = [
    `<b>${escapeHtml(facts.headline)}</b>\n`,
    `${facts.symbol} <a href="${escapeHtml(facts.link)}">${escapeHtml(facts.name)}</a>: its ` +
    `certificate expires in ${facts.left}`,
    `Valid until: ${facts.validTo}`,
    `Subject: ${escapeHtml(facts.subject)}`,
    `Issuer: ${escapeHtml(facts.issuer)}`,
  ];
  // Escaping can make a name of odd characters six times longer: what does not fit is left
  // out whole (a cut could split a tag), the subject and issuer first.
  let text = lines.join("\n");
  while (text.length > MAX_TEXT && lines.length > 1) {
    lines.pop();
    text = lines.join("\n");
  }
  return {
    chat_id: chatId,
    text,
    parse_mode: "HTML",
    link_preview_options: { is_disabled: true },
  };
}

export async function sendTelegram(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const { botToken, chatId } = channel.config as TelegramConfig;
  const url = `${context.telegramApiUrl}/bot${botToken}/sendMessage`;
  const posted = await postJson(url, renderTelegram(message, chatId, context.now()), context, {
    service: "Telegram",
    trusted: true,
    strict: true,
    secrets: [botToken],
    // Telegram echoes the message it sent (up to 4,096 characters, each up to 4 bytes).
    readBytes: 32 * 1024,
    retryAfterFromBody: (json) =>
      secondsField((json as { parameters?: { retry_after?: unknown } })?.parameters?.retry_after),
    describe: (json) => {
      const text = (json as { description?: unknown })?.description;
      return typeof text === "string" ? text : null;
    },
  });
  // Telegram says `ok: false` with a status of its own; a 200 without `ok` is no delivery.
  const ok = (posted.json as { ok?: unknown } | null)?.ok;
  if (posted.outcome.success && ok !== true) {
    return { ...posted.outcome, success: false, error: "Telegram answered without ok: true" };
  }
  return posted.outcome;
}
