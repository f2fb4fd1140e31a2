/**
 * Where Chromium is: CHROMIUM_PATH when set (macOS: Google Chrome or Chromium inside its .app),
 * else CI's Debian package `chromium`.
 */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") || "/usr/bin/chromium";
