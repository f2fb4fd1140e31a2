/**
 * Signing in and managing admin users. The operator is the user `default`; its password comes
 * from HIBIKI_ADMIN_PASSWORD. There is never a built-in password: with no variable and no user
 * holding a password, nobody can sign in and the sign-in page says how to set one.
 */
import { DEFAULT_USER } from "../auth.ts";
import { ForbiddenError, ValidationError } from "../errors.ts";
import type { ListOptions } from "../store/store.ts";
import type { Page } from "../store/types.ts";
import { checkNewPassword, DUMMY_HASH, hashPassword, verifyPassword } from "./password.ts";
import type { SessionService } from "./sessions.ts";
import type { LoginThrottle } from "./throttle.ts";
import type { Session, User } from "../store/types.ts";
import { USER_ID } from "./types.ts";
import type { UserStore } from "../store/users.ts";

export interface UserServiceOptions {
  users: UserStore;
  sessions: SessionService;
  throttle: LoginThrottle;
  now: () => number;
  /** HIBIKI_ADMIN_PASSWORD. */
  adminPassword: string | null;
  /** HMAC of a text under a key only this system knows (for the password fingerprint). */
  fingerprint: (text: string) => Promise<string>;
  /** PBKDF2 iterations; lower only in tests of things other than hashing. */
  iterations?: number;
}

export type SignInResult =
  | { ok: true; session: Session; cookie: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "throttled"; waitSeconds: number };

export class UserService {
  private bootstrapped: Promise<void> | null = null;

  constructor(private readonly options: UserServiceOptions) {}

  /** Whether the sign-in page should explain how to set the first password. */
  async needsSetup(): Promise<boolean> {
    await this.bootstrap();
    return !(await this.options.users.anyPassword());
  }

  /**
   * Where the operator's password comes from, for the start log: the variable, a change on the
   * page made after it (the variable is then not applied again until its value changes), or none.
   */
  async operatorPassword(): Promise<"variable" | "page" | "none"> {
    await this.bootstrap();
    const operator = await this.options.users.get(DEFAULT_USER);
    if (operator?.passwordHash && !operator.passwordSetOnPage && operator.envFingerprint) {
      return "variable";
    }
    return (await this.options.users.anyPassword()) ? "page" : "none";
  }

  async signIn(userId: string, password: string, address: string): Promise<SignInResult> {
    await this.bootstrap();
    const { throttle, users } = this.options;
    const id = userId.trim();
    const attempt = await throttle.begin(id, address);
    if (attempt.waitMs > 0) {
      console.warn(`Sign-in for user ${JSON.stringify(id.slice(0, 64))} from ${address} throttled`);
      return { ok: false, reason: "throttled", waitSeconds: Math.ceil(attempt.waitMs / 1000) };
    }
    const user = USER_ID.test(id) ? await users.get(id) : null;
    // Unknown users cost the same hashing as known ones, so timing does not tell them apart.
    const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user?.passwordHash || !valid) {
      throttle.failed(attempt);
      return { ok: false, reason: "invalid" };
    }
    await throttle.succeeded(attempt);
    return { ok: true, ...(await this.options.sessions.create(user.id)) };
  }

  async get(userId: string): Promise<User | null> {
    return await this.options.users.get(userId);
  }

  async list(actor: User, page: ListOptions): Promise<Page<User>> {
    requireAdmin(actor);
    return await this.options.users.list(page);
  }

  async add(
    actor: User,
    input: { id: string; password: string; admin: boolean },
  ): Promise<User> {
    requireAdmin(actor);
    const id = input.id.trim();
    if (!USER_ID.test(id)) {
      throw new ValidationError("User must be 1-64 letters, digits or _.@-", "id");
    }
    checkPassword(input.password);
    const stamp = new Date(this.options.now()).toISOString();
    const user: User = {
      id,
      admin: input.admin,
      passwordHash: await this.hash(input.password),
      createdAt: stamp,
      updatedAt: stamp,
    };
    await this.options.users.create(user);
    return user;
  }

  /** An admin sets another user's password; that user's sessions all end. */
  async resetPassword(actor: User, userId: string, password: string): Promise<void> {
    requireAdmin(actor);
    checkPassword(password);
    await this.setPassword(userId, password);
    await this.options.sessions.endAll(userId);
  }

  /** A user changes their own password; their other sessions end. */
  async changeOwnPassword(
    session: Session,
    current: string,
    next: string,
  ): Promise<void> {
    const user = await this.options.users.get(session.userId);
    if (!user?.passwordHash || !(await verifyPassword(current, user.passwordHash))) {
      throw new ValidationError("Current password is wrong", "current");
    }
    checkPassword(next, "password");
    await this.setPassword(user.id, next);
    await this.options.sessions.endAll(user.id, { keep: session.id });
  }

  private async setPassword(userId: string, password: string): Promise<void> {
    const hash = await this.hash(password);
    const stamp = new Date(this.options.now()).toISOString();
    await this.options.users.update(userId, (user) => ({
      ...user,
      passwordHash: hash,
      passwordSetOnPage: true,
      updatedAt: stamp,
    }));
  }

  private hash(password: string): Promise<string> {
    return hashPassword(password, { iterations: this.options.iterations });
  }

  /**
   * Applies HIBIKI_ADMIN_PASSWORD to the operator when its value is new (first start, or the
   * variable changed): a password later changed on the page is kept across restarts.
   */
  private bootstrap(): Promise<void> {
    this.bootstrapped ??= (async () => {
      const { adminPassword, users } = this.options;
      if (!adminPassword) return;
      const fingerprint = await this.options.fingerprint(`admin-password:${adminPassword}`);
      const current = await users.get(DEFAULT_USER);
      if (current?.envFingerprint === fingerprint) return;
      const stamp = new Date(this.options.now()).toISOString();
      await users.put({
        id: DEFAULT_USER,
        admin: true,
        passwordHash: await this.hash(adminPassword),
        envFingerprint: fingerprint,
        createdAt: current?.createdAt ?? stamp,
        updatedAt: stamp,
      });
      if (current) await this.options.sessions.endAll(DEFAULT_USER);
    })().catch((error) => {
      this.bootstrapped = null;
      throw error;
    });
    return this.bootstrapped;
  }
}

function requireAdmin(actor: User): void {
  if (!actor.admin) throw new ForbiddenError("Only an administrator can manage users");
}

function checkPassword(password: string, field = "password"): void {
  const problem = checkNewPassword(password);
  if (problem) throw new ValidationError(problem, field);
}
