/** Where CI's Chromium is (the Debian package `chromium`). */
export const CHROMIUM = "/usr/bin/chromium";
