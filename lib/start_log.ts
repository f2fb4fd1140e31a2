/**
 * What the start log tells a person beyond "listening": where the admin pages are, how to sign
 * in there, and which guards are off. A configured password is never printed; there is no
 * generated one (lib/users/users.ts), so without HIBIKI_ADMIN_PASSWORD the log says how to set it.
 */
import { DEFAULT_USER } from "./auth.ts";
import type { Config } from "./config.ts";

/** The address a browser on this machine opens: a wildcard listen address is not one. */
export function browserUrl(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" || hostname === "::" || hostname === "[::]"
    ? "localhost"
    : hostname.includes(":") && !hostname.startsWith("[")
    ? `[${hostname}]`
    : hostname;
  return `http://${host}:${port}`;
}

export async function startNotes(
  config: Pick<Config, "hostname" | "adminPassword" | "allowPrivateNetworks">,
  options: { port: number; users: { operatorPassword(): Promise<"variable" | "page" | "none"> } },
): Promise<string[]> {
  const admin = `${browserUrl(config.hostname, options.port)}/admin`;
  const user = JSON.stringify(DEFAULT_USER);
  const source = await options.users.operatorPassword();
  const signIn = source === "none"
    ? `no password yet: restart with HIBIKI_ADMIN_PASSWORD set to at least 12 characters, ` +
      `then sign in as ${user}`
    : source === "page"
    ? `sign in as ${user} with the password set on the Account page` +
      (config.adminPassword
        ? " (HIBIKI_ADMIN_PASSWORD applies again only when its value changes)"
        : "")
    : config.adminPassword
    ? `sign in as ${user} with the password in HIBIKI_ADMIN_PASSWORD`
    : `sign in as ${user} with the password set earlier by HIBIKI_ADMIN_PASSWORD`;
  const notes = [`Admin pages: ${admin} (${signIn})`];
  if (config.allowPrivateNetworks) {
    notes.push(
      "Private networks allowed (HIBIKI_ALLOW_PRIVATE_NETWORKS): jobs, webhooks and relays " +
        "may reach loopback, private and cloud metadata addresses",
    );
  }
  return notes;
}
