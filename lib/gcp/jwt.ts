/**
 * The signed JWT a service account trades for an access token (OAuth 2.0 JWT bearer grant,
 * RFC 7523). Unlike the seed's sketch, the assertion is really signed (RS256, by `jose`), with
 * the claims Google checks and a lifetime it accepts.
 */
import type { Clock } from "../clock.ts";
import type { ServiceAccountKey } from "./service_account.ts";

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Google refuses assertions that live longer than an hour. */
export const MAX_ASSERTION_LIFETIME_S = 3600;

/** Types, not interfaces: jose takes records, and only a type alias is assignable to one. */
export type JwtHeader = {
  alg: "RS256";
  typ: "JWT";
  kid: string;
};

export type AssertionClaims = {
  iss: string;
  scope: string;
  aud: string;
  iat: number;
  exp: number;
};

export interface AssertionOptions {
  clock: Clock;
  /** Default: cloud-platform. */
  scope?: string;
  /** Seconds; capped at 3600. */
  lifetimeS?: number;
}

/**
 * jose's signer, imported at the first signature: most processes never call Google, and the
 * package's root module loads all ~50 of its modules (JWE, JWKS, …), about 3 MB of RSS at
 * start-up (measured with `deno task start` and 10,000 jobs firing); its `jwt/sign` entry alone
 * loads a dozen.
 */
let signer: Promise<typeof import("jose/jwt/sign")> | undefined;

/** Builds and signs an RS256 assertion for `key`, valid from now for at most one hour. */
export async function createAssertion(
  key: ServiceAccountKey,
  options: AssertionOptions,
): Promise<string> {
  const iat = Math.floor(options.clock.now() / 1000);
  const lifetime = Math.min(
    options.lifetimeS ?? MAX_ASSERTION_LIFETIME_S,
    MAX_ASSERTION_LIFETIME_S,
  );
  const header: JwtHeader = { alg: "RS256", typ: "JWT", kid: key.privateKeyId };
  const claims: AssertionClaims = {
    iss: key.clientEmail,
    scope: options.scope ?? CLOUD_PLATFORM_SCOPE,
    aud: key.tokenUri,
    iat,
    exp: iat + lifetime,
  };
  const { SignJWT } = await (signer ??= import("jose/jwt/sign"));
  return await new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}
