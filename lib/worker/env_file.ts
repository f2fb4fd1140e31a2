/**
 * The worker's `.env` file: seed 002 keeps a worker's settings in `worker/.env`. The file read
 * is WORKER_ENV_FILE when set (it must then exist), else the first of `worker/.env` and `.env`
 * in the current folder. A variable set in the real environment wins over the file, as with
 * dotenv everywhere; dotenv's own parser reads it (quotes, comments, `export`, multi-line).
 */
import { parse } from "dotenv";
import { WorkerConfigError } from "./worker_config.ts";

export const ENV_FILES = ["worker/.env", ".env"] as const;

export interface WorkerEnv {
  env: Record<string, string>;
  /** The file read, as named; null when there was none. */
  file: string | null;
  /** The variables whose value came from the file. */
  fromFile: ReadonlySet<string>;
}

export async function loadWorkerEnv(env: Record<string, string>): Promise<WorkerEnv> {
  const chosen = env.WORKER_ENV_FILE || null;
  for (const file of chosen ? [chosen] : ENV_FILES) {
    let text;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && !chosen) continue;
      throw new WorkerConfigError(`Cannot start the worker: ${readProblem(file, chosen, error)}`);
    }
    const values = parse(text);
    const fromFile = new Set(Object.keys(values).filter((name) => !(name in env)));
    return { env: { ...values, ...env }, file, fromFile };
  }
  return { env, file: null, fromFile: new Set() };
}

function readProblem(file: string, chosen: string | null, error: unknown): string {
  const what = chosen ? `WORKER_ENV_FILE=${file}` : file;
  if (error instanceof Deno.errors.NotFound) return `${what} does not exist`;
  if (error instanceof Deno.errors.NotCapable) {
    return `cannot read ${what}: deno task worker may read only the current folder; ` +
      "keep the file there, or run deno run with an --allow-read covering it";
  }
  return `cannot read ${what}: ${(error as Error).message}`;
}
