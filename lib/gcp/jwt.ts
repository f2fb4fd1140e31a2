/**
 * The signed JWT a service account trades for an access token (OAuth 2.0 JWT bearer grant,
 * RFC 7523). Unlike the seed's sketch, the signature really is RSASSA-PKCS1-v1_5 over
 * `base64url(header).base64url(claims)`, and every part is base64url without padding.
 */
import type { Clock } from "../clock.ts";
import { toBase64Url } from "../crypto.ts";
import type { ServiceAccountKey } from "./service_account.ts";

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Google refuses assertions that live longer than an hour. */
export const MAX_ASSERTION_LIFETIME_S = 3600;

export interface JwtHeader {
  alg: "RS256";
  typ: "JWT";
  kid: string;
}

export interface AssertionClaims {
  iss: string;
  scope: string;
  aud: string;
  iat: number;
  exp: number;
}

export interface AssertionOptions {
  clock: Clock;
  /** Default: cloud-platform. */
  scope?: string;
  /** Seconds; capped at 3600. */
  lifetimeS?: number;
}

const encoder = new TextEncoder();

function encodeJson(value: unknown): string {
  return toBase64Url(encoder.encode(JSON.stringify(value)));
}

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
  const signingInput = `${encodeJson(header)}.${encodeJson(claims)}`;
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    key.privateKey,
    encoder.encode(signingInput),
  );
  return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`;
}
