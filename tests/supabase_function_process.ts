/**
 * One of seed 002's Supabase function files (`supabase/functions/<name>/index.ts`) run as
 * Supabase deploys it: its own `deno run` in its own folder (so with the function's own
 * deno.json, as `supabase functions deploy` bundles it), serving on a port of its own.
 */
import assert from "node:assert/strict";
import { type Child, freePort, REPO, spawn } from "./subprocess.ts";

export interface FunctionProcess {
  url: string;
  child: Child;
}

export async function startFunction(
  name: string,
  env: Record<string, string>,
): Promise<FunctionProcess> {
  const port = freePort();
  const child = spawn(["run", "--allow-net", "--allow-env", "index.ts"], {
    cwd: `${REPO}supabase/functions/${name}`,
    env: { DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, ...env },
  });
  const listening = await child.stderr.waitFor(/Listening on/, 30_000) ??
    await child.stdout.waitFor(/Listening on/, 1000);
  assert.ok(listening, `${name} did not start:\n${child.stdout.text}\n${child.stderr.text}`);
  return { url: `http://127.0.0.1:${port}`, child };
}
