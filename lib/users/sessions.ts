/**
 * Sign-in sessions. The cookie carries `<session id>.<HMAC of the id>`: a forged or mangled
 * cookie is refused without a database read, and the stored record is what makes a session
 * real (it can be ended at once, and expires by itself).
 */
import { BASE64URL, hexDigestsEqual, randomBytes } from "../crypto.ts";
import type { Session } from "../store/types.ts";
import type { SessionStore } from "../store/users.ts";

export const SESSION_TTL_MS = 12 * 3_600_000;
const encoder = new TextEncoder();

export class SessionService {
  private readonly key: Promise<CryptoKey>;

  /** The signing key is derived from the master key (HKDF), so there is no extra secret. */
  constructor(
    private readonly store: SessionStore,
    masterKey: Uint8Array,
    private readonly now: () => number,
  ) {
    this.key = sessionKeyFrom(masterKey).then((key) =>
      crypto.subtle.importKey(
        "raw",
        key as BufferSource,
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      )
    );
  }

  async create(userId: string): Promise<{ session: Session; cookie: string }> {
    const now = this.now();
    const session: Session = {
      id: randomBytes(24).toBase64(BASE64URL),
      userId,
      csrf: randomBytes(24).toBase64(BASE64URL),
      createdAt: now,
      expiresAt: now + SESSION_TTL_MS,
    };
    await this.store.put(session);
    return { session, cookie: `${session.id}.${await this.sign(session.id)}` };
  }

  /** The live session a cookie names, or null. */
  async resolve(cookie: string | undefined): Promise<Session | null> {
    if (!cookie || cookie.length > 200) return null;
    const [id, signature] = cookie.split(".");
    if (!id || !signature || !hexDigestsEqual(signature, await this.sign(id))) return null;
    const session = await this.store.get(id);
    // Expired records may linger until the store removes them: check the time as well.
    if (!session || session.expiresAt <= this.now()) return null;
    return session;
  }

  async end(session: Session): Promise<void> {
    await this.store.delete(session);
  }

  /** Ends every session of a user except `keep` (after a password change). */
  async endAll(userId: string, options: { keep?: string } = {}): Promise<number> {
    return await this.store.deleteAllOf(userId, options);
  }

  /** A value for a form before anyone is signed in: an HMAC of a random cookie value. */
  async signedToken(value: string): Promise<string> {
    return await this.sign(`pre:${value}`);
  }

  /** A keyed digest of a text, e.g. to notice a changed password variable without storing it. */
  async fingerprint(text: string): Promise<string> {
    return await this.sign(`fp:${text}`);
  }

  private async sign(text: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", await this.key, encoder.encode(text));
    return new Uint8Array(mac).toHex();
  }
}

async function sessionKeyFrom(masterKey: Uint8Array): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", masterKey as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(32),
      info: encoder.encode("hibiki admin session v1"),
    },
    base,
    256,
  );
  return new Uint8Array(bits);
}
