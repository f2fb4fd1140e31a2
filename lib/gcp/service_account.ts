/**
 * Google service-account keys: the JSON file a user downloads from the console, validated and
 * turned into a non-extractable WebCrypto signing key. After import the PEM is not kept, so a
 * parsed key can be logged or inspected without leaking the private key.
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";

/** The signing algorithm Google's OAuth token endpoint expects for RS256 assertions. */
export const RS256_IMPORT: RsaHashedImportParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

const MIN_MODULUS_BITS = 2048;
/** A real key file is about 2.3 KB; anything much larger is not one. */
const MAX_KEY_FILE_CHARS = 64 * 1024;
/** Hosts of Google's token endpoint as found in key files (old and new). */
const GOOGLE_TOKEN_HOSTS = new Set(["oauth2.googleapis.com", "accounts.google.com"]);

/** "is required" when the field is absent, else `message`. */
const required = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is required" : message;
const text = () => z.string({ error: required("must be a string") }).min(1, "is empty");

const keyFileSchema = z.object({
  type: z.literal("service_account", { error: required('must be "service_account"') }),
  project_id: text(),
  private_key_id: text().regex(/^[0-9a-f]{20,64}$/i, "is not a key id"),
  private_key: text(),
  client_email: z.email({ error: required("must be an email address") }),
  token_uri: text().refine((value) => URL.canParse(value), "is not a URL"),
  client_id: z.string().optional(),
  universe_domain: z.string().optional(),
});

/** The fields of a key file that Hibiki uses, in their JSON spelling. */
export type ServiceAccountJson = z.output<typeof keyFileSchema>;

/** A validated key, ready to sign. Contains no secret in extractable form. */
export interface ServiceAccountKey {
  projectId: string;
  privateKeyId: string;
  clientEmail: string;
  tokenUri: string;
  /** RSASSA-PKCS1-v1_5 / SHA-256, non-extractable, usage `sign`. */
  privateKey: CryptoKey;
}

/** A key with the id under which it is stored; tokens are cached per id. */
export interface GcpCredential {
  id: string;
  key: ServiceAccountKey;
}

export interface ServiceAccountOptions {
  /**
   * Which `token_uri` values are accepted. The key file is user input and the assertion is
   * POSTed to this URL, so by default only Google's own https token endpoints are allowed
   * (anything else would be an SSRF vector). Tests pass a predicate admitting the fake.
   */
  allowTokenUri?: (url: URL) => boolean;
}

function invalid(detail: string): ValidationError {
  return new ValidationError(`Invalid service account key: ${detail}`, "key");
}

export function isGoogleTokenUri(url: URL): boolean {
  return url.protocol === "https:" && GOOGLE_TOKEN_HOSTS.has(url.hostname) && url.port === "";
}

/**
 * Validates a key file (JSON text or the parsed object) without importing the key. Errors are
 * `ValidationError`s on field "key" naming the JSON field that is wrong.
 */
export function parseServiceAccountJson(
  input: unknown,
  options: ServiceAccountOptions = {},
): ServiceAccountJson {
  let value = input;
  if (typeof input === "string") {
    if (input.length > MAX_KEY_FILE_CHARS) throw invalid("the file is too large");
    try {
      value = JSON.parse(input);
    } catch {
      throw invalid("not valid JSON");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("expected a JSON object");
  }
  const parsed = keyFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`"${issue.path.join(".")}" ${issue.message}`);
  }
  const json = parsed.data;
  const tokenUrl = new URL(json.token_uri);
  if (!(options.allowTokenUri ?? isGoogleTokenUri)(tokenUrl)) {
    throw invalid(`"token_uri" must be Google's token endpoint, got "${tokenUrl.origin}"`);
  }
  return json;
}

/** The DER bytes of a PKCS#8 PEM; PKCS#1 ("RSA PRIVATE KEY") is refused with a hint. */
function pemToDer(pem: string): Uint8Array {
  // Keys pasted through some tools arrive with literal "\n" sequences instead of newlines.
  const normal = pem.replaceAll("\\n", "\n").trim();
  if (normal.includes("BEGIN RSA PRIVATE KEY")) {
    throw invalid('"private_key" is PKCS#1; expected the PKCS#8 "BEGIN PRIVATE KEY" block');
  }
  const match = /^-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----$/.exec(
    normal,
  );
  if (!match) throw invalid('"private_key" is not a PEM "PRIVATE KEY" block');
  try {
    return Uint8Array.fromBase64(match[1].replace(/\s+/g, ""));
  } catch {
    throw invalid('"private_key" is not valid base64');
  }
}

/** Imports the private key of a validated key file; refuses keys WebCrypto cannot use. */
export async function importServiceAccountKey(
  json: ServiceAccountJson,
): Promise<ServiceAccountKey> {
  const der = pemToDer(json.private_key);
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey(
      "pkcs8",
      der as BufferSource,
      RS256_IMPORT,
      false,
      ["sign"],
    );
  } catch {
    throw invalid('"private_key" is not an RSA private key that can sign');
  }
  const bits = (privateKey.algorithm as RsaHashedKeyAlgorithm).modulusLength;
  if (bits < MIN_MODULUS_BITS) {
    throw invalid(`"private_key" has ${bits} bits; at least ${MIN_MODULUS_BITS} are required`);
  }
  return {
    projectId: json.project_id,
    privateKeyId: json.private_key_id,
    clientEmail: json.client_email,
    tokenUri: json.token_uri,
    privateKey,
  };
}

/** Validates and imports a key file in one step: what the runner does after opening the secret. */
export async function loadServiceAccountKey(
  input: unknown,
  options: ServiceAccountOptions = {},
): Promise<ServiceAccountKey> {
  return await importServiceAccountKey(parseServiceAccountJson(input, options));
}
