/**
 * The master key that seals secrets at rest. Production requires HIBIKI_MASTER_KEY; in
 * development a key is generated once into the data folder so restarts can still open
 * what earlier runs sealed.
 */
import { dirname, join } from "node:path";
import { Config, ConfigError } from "./config.ts";
import { fromBase64, randomBytes } from "./crypto.ts";

export function decodeMasterKey(text: string): Uint8Array {
  const trimmed = text.trim();
  let bytes: Uint8Array | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    bytes = Uint8Array.fromHex(trimmed);
  } else {
    try {
      bytes = fromBase64(trimmed);
    } catch {
      bytes = null;
    }
  }
  if (!bytes || bytes.length !== 32) {
    throw new ConfigError(
      "Cannot start: HIBIKI_MASTER_KEY must be 32 bytes as base64 or 64 hex characters " +
        "(generate one with: openssl rand -base64 32)",
    );
  }
  return bytes;
}

export interface MasterKeyResult {
  key: Uint8Array;
  /** Set when the key was generated or loaded from the data folder rather than configured. */
  warning: string | null;
}

export async function loadMasterKey(config: Config): Promise<MasterKeyResult> {
  if (config.masterKey) return { key: decodeMasterKey(config.masterKey), warning: null };
  if (config.production) {
    throw new ConfigError("Cannot start: HIBIKI_MASTER_KEY is required when HIBIKI_ENV=production");
  }
  if (config.kvPath === null || config.kvPath === ":memory:") {
    return {
      key: randomBytes(32),
      warning: "HIBIKI_MASTER_KEY is not set: using a throw-away key for the in-memory store",
    };
  }
  const file = join(dirname(config.kvPath), "master.key");
  try {
    const text = await Deno.readTextFile(file);
    return {
      key: decodeMasterKey(text),
      warning: `HIBIKI_MASTER_KEY is not set: using the development key in ${file}`,
    };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = randomBytes(32);
  await Deno.mkdir(dirname(file), { recursive: true });
  try {
    // createNew: two processes starting together must not overwrite each other's key.
    await Deno.writeTextFile(file, key.toBase64() + "\n", { createNew: true, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return loadMasterKey(config);
    throw error;
  }
  return {
    key,
    warning: `HIBIKI_MASTER_KEY is not set: generated a development key into ${file}; ` +
      "set HIBIKI_MASTER_KEY in production",
  };
}
