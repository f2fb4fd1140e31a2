/**
 * A channel's `config` at the edges: parsed and checked per type, its secret fields sealed
 * for storage and opened for sending, and masked when shown (`https://hooks.slack.com/…`,
 * `1234…`, `…`). A change that sends a secret back as it was shown keeps the stored one, so a
 * client may send a whole config it read without knowing the secrets in it.
 */
import { ValidationError } from "../../errors.ts";
import { issueError } from "../../validation.ts";
import type { ChannelType } from "../types.ts";
import { CHANNEL_KINDS, type ConfigRules, type MaskStyle } from "./kinds.ts";

export type Config = Record<string, unknown>;

/** Parses `input` as a `type` config and checks it; throws ValidationError on `config`. */
export function parseChannelConfig(type: ChannelType, input: unknown, rules: ConfigRules): Config {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("config must be an object", "config");
  }
  const kind = CHANNEL_KINDS[type];
  const parsed = kind.schema.safeParse(input);
  if (!parsed.success) throw issueError(parsed.error, { at: "config" });
  const config = parsed.data as Config;
  kind.check(config, rules);
  return config;
}

/** Short secrets show nothing: their first characters would be too much of them. */
const MIN_PREFIXED = 16;

export function maskValue(value: string, style: MaskStyle): string {
  if (style === "url" && URL.canParse(value)) return `${new URL(value).origin}/…`;
  if (style === "prefix" && value.length >= MIN_PREFIXED) return `${value.slice(0, 4)}…`;
  return "…";
}

/** Applies `each` to every secret of an opened or sealed config; other fields as they are. */
async function mapSecrets(
  type: ChannelType,
  config: Config,
  each: (value: string, path: string, style: MaskStyle) => string | Promise<string>,
): Promise<Config> {
  const kind = CHANNEL_KINDS[type];
  const out: Config = { ...config };
  for (const [field, style] of Object.entries(kind.secretFields)) {
    const value = config[field];
    if (typeof value === "string") out[field] = await each(value, field, style);
  }
  for (const field of kind.secretMaps) {
    const map = config[field];
    if (typeof map !== "object" || map === null) continue;
    const next: Record<string, string> = {};
    for (const [name, value] of Object.entries(map as Record<string, string>)) {
      next[name] = await each(value, `${field}.${name}`, "prefix");
    }
    out[field] = next;
  }
  return out;
}

/** The config with every secret replaced by `seal(value, path)`. */
export function sealConfig(
  type: ChannelType,
  config: Config,
  seal: (value: string, path: string) => Promise<string>,
): Promise<Config> {
  return mapSecrets(type, config, (value, path) => seal(value, path));
}

/** The stored config with every secret opened by `open(sealed, path)`. */
export function openConfig(
  type: ChannelType,
  config: Config,
  open: (sealed: string, path: string) => Promise<string>,
): Promise<Config> {
  return mapSecrets(type, config, (value, path) => open(value, path));
}

/** The opened config as it is shown: every secret masked. */
export async function maskConfig(type: ChannelType, config: Config): Promise<Config> {
  return await mapSecrets(type, config, (value, _path, style) => maskValue(value, style));
}

/**
 * `incoming` with every secret that equals the mask of the `current` one (opened) replaced by
 * the current secret: what a client read and sent back unchanged stays as it was.
 */
export function keepMaskedSecrets(type: ChannelType, incoming: Config, current: Config): Config {
  const kind = CHANNEL_KINDS[type];
  const out: Config = { ...incoming };
  for (const [field, style] of Object.entries(kind.secretFields)) {
    const given = incoming[field];
    const stored = current[field];
    if (typeof given === "string" && typeof stored === "string") {
      if (given === maskValue(stored, style)) out[field] = stored;
    }
  }
  for (const field of kind.secretMaps) {
    const given = incoming[field];
    const stored = current[field];
    if (!isStringMap(given) || !isStringMap(stored)) continue;
    const next: Record<string, unknown> = { ...given };
    for (const [name, value] of Object.entries(given)) {
      const old = stored[name];
      if (typeof old === "string" && value === maskValue(old, "prefix")) next[name] = old;
    }
    out[field] = next;
  }
  return out;
}

function isStringMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
