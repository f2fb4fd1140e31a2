/**
 * API keys: random, shown once, stored only as a SHA-256 hash with a recognisable prefix.
 * The optional root key from the environment belongs to the user `default` and holds
 * every scope.
 */
import { ForbiddenError, UnauthorizedError, ValidationError } from "./errors.ts";
import { BASE64URL, hexDigestsEqual, randomBytes, secretsEqual, sha256Hex } from "./crypto.ts";
import type { Store } from "./store/store.ts";
import { type ApiKey, type Scope, SCOPES } from "./store/types.ts";

export const DEFAULT_USER = "default";
const KEY_PREFIX = "hk_";

export interface Principal {
  userId: string;
  scopes: readonly Scope[];
  /** `root` for HIBIKI_API_KEY. */
  keyId: string;
  /** Who is acting, as records name them (an acknowledgement): the key's name, or the user. */
  name: string;
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope);
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!hasScope(principal, scope)) {
    throw new ForbiddenError(`This key lacks the "${scope}" scope`);
  }
}

export interface AuthOptions {
  store: Store;
  rootApiKey: string | null;
}

/** Resolves a bearer token to its principal; throws UnauthorizedError for anything else. */
export async function authenticate(token: string | null, options: AuthOptions): Promise<Principal> {
  if (!token) throw new UnauthorizedError("Missing API key: send Authorization: Bearer <key>");
  if (options.rootApiKey && secretsEqual(token, options.rootApiKey)) {
    return { userId: DEFAULT_USER, scopes: SCOPES, keyId: "root", name: "HIBIKI_API_KEY" };
  }
  if (!token.startsWith(KEY_PREFIX) || token.length > 200) {
    throw new UnauthorizedError("Invalid API key");
  }
  const hash = sha256Hex(token);
  const key = await options.store.findApiKeyByHash(hash);
  // The lookup is by a hash of 256 random bits; the comparison below keeps the final
  // decision constant-time as well.
  if (!key || !hexDigestsEqual(key.hash, hash)) throw new UnauthorizedError("Invalid API key");
  return { userId: key.userId, scopes: key.scopes, keyId: key.id, name: key.name };
}

export interface NewKeyInput {
  userId: string;
  name: string;
  scopes: Scope[];
}

/** Creates a key; returns the key text, which is never stored or shown again. */
export async function createApiKey(
  store: Store,
  input: NewKeyInput,
  now: number,
): Promise<{ key: string; record: ApiKey }> {
  const key = KEY_PREFIX + randomBytes(32).toBase64(BASE64URL);
  const record: ApiKey = {
    id: crypto.randomUUID(),
    userId: input.userId,
    name: input.name,
    scopes: [...new Set(input.scopes)].sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b)),
    prefix: key.slice(0, KEY_PREFIX.length + 6),
    hash: sha256Hex(key),
    createdAt: new Date(now).toISOString(),
  };
  await store.createApiKey(record);
  return { key, record };
}

/**
 * A key can never mint a key with scopes it does not hold. Only the operator (`default`
 * user's admin keys and the root key) may create keys for another user: that is how a new
 * tenant begins, and it keeps one tenant's admin from reaching into another tenant.
 */
export function checkMintingAllowed(principal: Principal, input: NewKeyInput): void {
  const missing = input.scopes.filter((scope) => !hasScope(principal, scope));
  if (missing.length > 0) {
    throw new ForbiddenError(`Cannot create API key: this key lacks ${missing.join(", ")}`);
  }
  if (input.userId !== principal.userId && principal.userId !== DEFAULT_USER) {
    throw new ForbiddenError("Cannot create API key for another user: only the operator can");
  }
}

export function parseScopes(value: unknown): Scope[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError("scopes must be a non-empty list", "scopes");
  }
  for (const scope of value) {
    if (!SCOPES.includes(scope)) {
      throw new ValidationError(
        `Unknown scope "${String(scope)}": expected one of ${SCOPES.join(", ")}`,
        "scopes",
      );
    }
  }
  return value as Scope[];
}
