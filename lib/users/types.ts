/** People who sign in to the admin pages. Each user is a tenant: its id owns its records. */
export interface User {
  /** The tenant id (`default` is the operator). */
  id: string;
  /** May add users and reset their passwords. */
  admin: boolean;
  /** `pbkdf2-sha256$…`; null until a password is set. */
  passwordHash: string | null;
  /**
   * HMAC of the HIBIKI_ADMIN_PASSWORD last applied to this user: the variable sets the password
   * again only when its value changes, so a password changed on the page survives restarts.
   */
  envFingerprint?: string;
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  id: string;
  userId: string;
  /** Sent back in forms (`_csrf`) and by islands (`X-CSRF-Token`). */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

export const USER_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
