/**
 * `ntfy` channels: a message published as JSON to the server's root (`POST <serverUrl>/` with
 * `{ topic, title, message, priority, tags, click, actions }`), with `Authorization: Bearer`
 * when the channel has a token. An outage is priority 4 (high), a recovery 3, a certificate
 * about to expire 3 (it is days away, not down: no high-priority buzz at night), a test 2; tags
 * become the emoji beside the title; a tap opens the job's admin page. ntfy keeps a message
 * of at most 4,096 bytes as text (a longer one becomes an attachment), so jobs beyond that
 * are counted, not listed.
 */
import { z } from "zod";
import { textField } from "./text_field.ts";
import { ValidationError } from "../../errors.ts";
import { checkTargetUrl, type TargetUrlRules } from "../../net/target_url.ts";
import type { AlertMessage, CertificateMessage, Channel, SendOutcome } from "../types.ts";
import { postJson, type SendContext } from "./http_post.ts";
import {
  certificateFacts,
  fitBlocks,
  headline,
  itemFacts,
  TEST_NOTE,
  truncate,
  utf8Length,
} from "./render.ts";

export const ntfyConfig = z.object({
  serverUrl: z.string().max(2048, "is too long").default("https://ntfy.sh"),
  topic: textField().regex(
    /^[-_A-Za-z0-9]{1,64}$/,
    "must be 1 to 64 letters, digits, - or _",
  ),
  token: z.string().min(1, "must not be empty").max(256, "is too long").nullable().default(null),
}).strict();
export type NtfyConfig = z.output<typeof ntfyConfig>;

export function checkNtfyConfig(config: NtfyConfig, rules: TargetUrlRules): void {
  const url = checkTargetUrl(config.serverUrl, {
    ...rules,
    label: "config.serverUrl",
    field: "config",
  });
  if (url.search || url.hash) {
    throw new ValidationError(
      "config.serverUrl must be the server's address without a query or fragment: the topic " +
        "goes in config.topic",
      "config",
    );
  }
}

const MAX_MESSAGE_BYTES = 4096;
const MAX_TITLE = 250;

export interface NtfyMessage {
  topic: string;
  title: string;
  message: string;
  priority: number;
  tags: string[];
  click: string;
  actions: { action: "view"; label: string; url: string }[];
}

export function renderNtfy(message: AlertMessage, topic: string, now: number): NtfyMessage {
  if (message.kind === "certificate.expiring") return ntfyCertificate(message, topic);
  const items = message.items.map((item) => itemFacts(message, item, now));
  const test = message.kind === "test";
  const anyDown = items.some((facts) => !facts.resolved);
  const blocks = items.map((facts) => {
    const lines = [`${facts.name} is ${facts.state}`, facts.cause, facts.timing];
    if (facts.locations) lines.push(`Failed at: ${facts.locations}`);
    if (items.length > 1) lines.push(facts.link);
    return lines.filter(Boolean).join("\n");
  });
  const note = test ? `${TEST_NOTE}\n\n` : "";
  const body = fitBlocks(blocks, {
    budget: MAX_MESSAGE_BYTES - utf8Length(note),
    separator: "\n\n",
    more: (left) => `…and ${left} more`,
    measure: utf8Length,
  });
  // The emoji comes from the tag; the title says it in words.
  const title = headline(message).replace(/^\S+\s/, "");
  const click = items.length === 1 ? items[0].link : `${message.baseUrl}/admin`;
  return {
    topic,
    title: title.slice(0, MAX_TITLE),
    message: note + body,
    priority: test ? 2 : anyDown ? 4 : 3,
    tags: [test ? "test_tube" : anyDown ? "rotating_light" : "white_check_mark"],
    click,
    actions: [{ action: "view", label: "Open in Hibiki", url: click }],
  };
}

function ntfyCertificate(message: CertificateMessage, topic: string): NtfyMessage {
  const facts = certificateFacts(message);
  // Name, subject and issuer are cut to 200, 500 and 500 characters: within 4,096 bytes.
  const body = [
    `${facts.name}: its certificate expires in ${facts.left}`,
    `Valid until: ${facts.validTo}`,
    `Subject: ${facts.subject}`,
    `Issuer: ${facts.issuer}`,
  ].join("\n");
  return {
    topic,
    title: truncate(facts.headline.replace(/^\S+\s/, ""), MAX_TITLE),
    message: body,
    priority: 3,
    tags: ["warning"],
    click: facts.link,
    actions: [{ action: "view", label: "Open in Hibiki", url: facts.link }],
  };
}

export async function sendNtfy(
  channel: Channel,
  message: AlertMessage,
  context: SendContext,
): Promise<SendOutcome> {
  const config = channel.config as NtfyConfig;
  const url = `${config.serverUrl.replace(/\/+$/, "")}/`;
  const posted = await postJson(url, renderNtfy(message, config.topic, context.now()), context, {
    service: "ntfy",
    strict: true,
    headers: config.token ? { Authorization: `Bearer ${config.token}` } : {},
    secrets: config.token ? [config.token] : [],
    describe: (json) => {
      const text = (json as { error?: unknown })?.error;
      return typeof text === "string" ? text : null;
    },
  });
  return posted.outcome;
}
