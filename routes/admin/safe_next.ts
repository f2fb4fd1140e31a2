/** Where to go after sign-in or a language switch: only a path inside the admin pages. */

/** Only paths inside the admin pages, never another site (`//evil`, `/\evil`). */
export function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:[/?#]|$)/.test(next) && !/[\\\s]/.test(next) ? next : "/admin";
}
