/** Ownership challenges a provider sends to a new webhook target (seed 001). */

const MAX_CHALLENGE_LENGTH = 2048;

/**
 * An ownership challenge: Slack's `{ "type": "url_verification", "challenge" }` is answered
 * with `{ "challenge" }`; any other JSON object with a string `challenge` with the value itself,
 * as seed 001's `return data['challenge']` does.
 */
export function challengeOf(
  body: Uint8Array,
): { challenge: string; shape: "slack" | "plain" } | null {
  if (body.length === 0 || body.length > 64 * 1024) return null;
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { challenge, type } = data as Record<string, unknown>;
  if (typeof challenge !== "string" || challenge.length > MAX_CHALLENGE_LENGTH) return null;
  return { challenge, shape: type === "url_verification" ? "slack" : "plain" };
}
