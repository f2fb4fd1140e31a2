/**
 * A stand-in for Telegram's Bot API `sendMessage` on 127.0.0.1, checking what Telegram
 * checks: the token in the path (`/bot<id>:<35 characters>/sendMessage`, else 404; a
 * well-formed but unknown one 401), a JSON body with `chat_id` and a non-empty `text` of at
 * most 4,096 characters once its HTML is parsed, only the HTML tags Telegram knows, and a
 * chat the bot may write to (else 400 "chat not found"). Answers as Telegram does:
 * `{ ok: true, result }` or `{ ok: false, error_code, description }`.
 */

const TOKEN = /^\d+:[A-Za-z0-9_-]{35}$/;
/** The tags Telegram's HTML parse mode accepts. */
const TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "span",
  "tg-spoiler",
  "a",
  "tg-emoji",
  "code",
  "pre",
  "blockquote",
]);

export interface TelegramSent {
  token: string;
  chatId: string;
  /** As sent (HTML). */
  text: string;
  /** With tags removed and entities decoded, as a person reads it. */
  plain: string;
  body: Record<string, unknown>;
}

export interface FakeTelegram {
  /** The API base, for HIBIKI_TELEGRAM_API_URL. */
  url: string;
  sent: TelegramSent[];
  /** Answers the next request with this instead (e.g. a 429). */
  failNext(answer: { status: number; description: string; retryAfter?: number }): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function startFakeTelegram(options: { token: string; chats: string[] }): FakeTelegram {
  const sent: TelegramSent[] = [];
  const scripted: { status: number; description: string; retryAfter?: number }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const match = /^\/bot([^/]+)\/sendMessage$/.exec(new URL(request.url).pathname);
    if (!match || !TOKEN.test(decodeURIComponent(match[1]))) return fail(404, "Not Found");
    const token = decodeURIComponent(match[1]);
    if (token !== options.token) return fail(401, "Unauthorized");
    if (request.method !== "POST") return fail(405, "Method Not Allowed");
    const next = scripted.shift();
    if (next) return fail(next.status, next.description, next.retryAfter);
    let body: Record<string, unknown>;
    try {
      body = await request.json();
    } catch {
      return fail(400, "Bad Request: invalid JSON");
    }
    const chatId = body.chat_id;
    if (chatId === undefined || chatId === null || chatId === "") {
      return fail(400, "Bad Request: chat_id is empty");
    }
    const text = body.text;
    if (typeof text !== "string" || text.trim() === "") {
      return fail(400, "Bad Request: message text is empty");
    }
    let plain = text;
    if (body.parse_mode === "HTML") {
      const problem = htmlProblem(text);
      if (problem) return fail(400, `Bad Request: can't parse entities: ${problem}`);
      plain = decode(text.replace(/<[^>]*>/g, ""));
    }
    if (plain.length > 4096) return fail(400, "Bad Request: message is too long");
    if (!options.chats.includes(String(chatId))) return fail(400, "Bad Request: chat not found");
    sent.push({ token, chatId: String(chatId), text, plain, body });
    return Response.json({
      ok: true,
      result: { message_id: sent.length, chat: { id: chatId }, date: 0, text: plain },
    });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const close = () => server.shutdown();
  return {
    url,
    sent,
    failNext: (answer) => scripted.push(answer),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function fail(status: number, description: string, retryAfter?: number): Response {
  return Response.json(
    {
      ok: false,
      error_code: status,
      description,
      ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
    },
    { status },
  );
}

/** Why Telegram would refuse the HTML, or null. */
function htmlProblem(text: string): string | null {
  for (const match of text.matchAll(/<\/?([A-Za-z][A-Za-z0-9-]*)[^>]*>/g)) {
    if (!TAGS.has(match[1].toLowerCase())) {
      return `Unsupported start tag "${match[1]}" at byte offset ${match.index}`;
    }
  }
  // A bare `<` or `&` that starts no tag or known entity.
  const stray = /<(?![A-Za-z/])|&(?!(lt|gt|amp|quot);)/.exec(text);
  if (stray) return `Can't find end of the entity starting at byte offset ${stray.index}`;
  return null;
}

function decode(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&amp;", "&");
}
