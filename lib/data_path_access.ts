/**
 * A data path (Hibiki's KV file, a worker's result file) that the process may not read and
 * write is a setup mistake to name at start: otherwise the first access (the development master
 * key beside the file, or the file itself) dies deep inside with a NotCapable stack trace, or,
 * on a terminal, asks a permission question.
 */
import { dirname } from "node:path";

/** What is wrong with `path` (from the variable `variable`), or null when it may be used. */
export function dataPathProblem(variable: string, path: string | null): string | null {
  if (path === null || path === ":memory:") return null;
  const folder = dirname(path);
  const granted = (["read", "write"] as const).every((name) =>
    Deno.permissions.querySync({ name, path: folder }).state === "granted"
  );
  if (granted) return null;
  return `${variable}=${path} is outside the folders this process may write ` +
    "(the deno tasks allow only ./data): keep it under ./data, or run deno run with " +
    `--allow-read and --allow-write covering ${folder}`;
}
