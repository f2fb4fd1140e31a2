/**
 * A KV path the process may not read and write is a setup mistake to name at start: otherwise
 * the first access (the development master key beside the file, or the file itself) dies
 * deep inside with a NotCapable stack trace, or, on a terminal, asks a permission question.
 */
import { dirname } from "node:path";
import { ConfigError } from "../config.ts";

export function checkKvPathAccess(kvPath: string | null): void {
  if (kvPath === null || kvPath === ":memory:") return;
  const folder = dirname(kvPath);
  const granted = (["read", "write"] as const).every((name) =>
    Deno.permissions.querySync({ name, path: folder }).state === "granted"
  );
  if (granted) return;
  throw new ConfigError(
    `Cannot start: HIBIKI_KV_PATH=${kvPath} is outside the folders this process may write ` +
      "(deno task start allows only ./data): keep it under ./data, or run deno run with " +
      `--allow-read and --allow-write covering ${folder}`,
  );
}
