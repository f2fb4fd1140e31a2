/** The cross-site request check every admin form and session-authenticated API call passes. */
import { secretsEqual } from "../../lib/crypto.ts";
import { ForbiddenError } from "../../lib/errors.ts";

/**
 * A request that changes something must carry the token (form field or `X-CSRF-Token`) and,
 * when the browser says where it comes from, come from this origin.
 */
export async function checkCsrf(
  request: Request,
  expected: string,
  formToken: () => Promise<string>,
): Promise<void> {
  const origin = request.headers.get("origin");
  // Hosts, not origins: behind a TLS-terminating proxy the request URL says http.
  if (origin && origin !== "null" && safeHost(origin) !== new URL(request.url).host) {
    throw new ForbiddenError("Cannot accept a form from another site");
  }
  const sent = request.headers.get("x-csrf-token") ?? await formToken();
  if (!sent || !secretsEqual(sent, expected)) {
    throw new ForbiddenError("The form has expired: reload the page and try again");
  }
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
