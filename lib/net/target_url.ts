/**
 * The checks a user-supplied target URL passes when it is saved (a job's URL, a webhook
 * endpoint, a relay target): it parses, uses http(s), carries no credentials, and names no
 * private or local address (unless allowed). The SSRF guard checks again, with DNS, at every
 * request; this only refuses early what can never work.
 */
import { ValidationError } from "../errors.ts";
import { BlockedAddressError, vetUrlWithoutDns } from "./ssrf.ts";

/** C0 controls, DEL and C1 controls (Unicode category Cc). */
const CONTROL = /\p{Cc}/u;

export interface TargetUrlRules {
  allowPrivateNetworks: boolean;
  /** Plain http; webhook endpoints and relays need HIBIKI_ALLOW_HTTP_WEBHOOKS for it. */
  allowHttp: boolean;
}

/** Throws a ValidationError on `field`, its message starting with `label` (e.g. "endpoint"). */
export function checkTargetUrl(
  text: string,
  options: TargetUrlRules & { label: string; field: string },
): URL {
  const { label, field } = options;
  // The URL parser drops tabs and line breaks and escapes other controls, so the text would
  // parse yet be stored, shown and sent on as typed: a CR LF in it could split a header.
  const control = CONTROL.exec(text);
  if (control) {
    throw new ValidationError(
      `${label} must not contain control characters: found ${codePoint(control[0])} at ` +
        `position ${control.index + 1}`,
      field,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`${label} is not a valid URL: "${text.slice(0, 100)}"`, field);
  }
  const httpAllowed = options.allowHttp || options.allowPrivateNetworks;
  if (url.protocol !== "https:" && !(httpAllowed && url.protocol === "http:")) {
    throw new ValidationError(
      httpAllowed
        ? `${label} must use http or https, not ${url.protocol}`
        : `${label} must use https (set HIBIKI_ALLOW_HTTP_WEBHOOKS=1 to allow http)`,
      field,
    );
  }
  if (url.username || url.password) {
    throw new ValidationError(`${label} must not contain credentials: use headers`, field);
  }
  try {
    vetUrlWithoutDns(url, { allowPrivate: options.allowPrivateNetworks });
  } catch (error) {
    if (!(error instanceof BlockedAddressError)) throw error;
    throw new ValidationError(
      `${label} points to a ${error.reason} address, which is refused ` +
        "(set HIBIKI_ALLOW_PRIVATE_NETWORKS=1 and restart Hibiki to allow private networks)",
      field,
    );
  }
  return url;
}

/** `U+000A`: how a character that cannot be shown is named in a message. */
export function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}
