/**
 * supabase/config.toml declares every function folder, as `supabase functions deploy` reads
 * it: gateway JWT check on (workers send the anon key), each function with its own deno.json
 * and deno.lock (which must name the versions Hibiki's do, so a deployed function runs the
 * code the rest of the suite tests) and its entry point.
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { EDGE_FUNCTIONS } from "../lib/edge/functions.ts";
import { REPO } from "./subprocess.ts";

const SUPABASE = `${REPO}supabase/`;

interface FunctionConfig {
  enabled?: boolean;
  verify_jwt?: boolean;
  import_map?: string;
  entrypoint?: string;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

Deno.test("supabase/config.toml declares the two seed 002 functions with the JWT check on, their deno.json and entry point", async () => {
  const config = parse(await Deno.readTextFile(`${SUPABASE}config.toml`)) as {
    functions?: Record<string, FunctionConfig>;
  };
  const folders: string[] = [];
  for await (const entry of Deno.readDir(`${SUPABASE}functions`)) {
    if (entry.isDirectory && !entry.name.startsWith("_")) folders.push(entry.name);
  }
  assert.deepEqual(folders.sort(), [...EDGE_FUNCTIONS].sort());
  assert.deepEqual(Object.keys(config.functions ?? {}).sort(), [...EDGE_FUNCTIONS].sort());
  for (const name of EDGE_FUNCTIONS) {
    assert.deepEqual({ ...config.functions![name] }, {
      enabled: true,
      verify_jwt: true,
      import_map: `./functions/${name}/deno.json`,
      entrypoint: `./functions/${name}/index.ts`,
    });
    assert.ok(await exists(`${SUPABASE}functions/${name}/deno.json`));
    assert.ok(await exists(`${SUPABASE}functions/${name}/index.ts`));
  }
});

Deno.test("each function's deno.json and deno.lock name the versions Hibiki's do", async () => {
  const root = JSON.parse(await Deno.readTextFile(`${REPO}deno.json`)).imports;
  const rootLock = JSON.parse(await Deno.readTextFile(`${REPO}deno.lock`)).specifiers;
  for (const name of EDGE_FUNCTIONS) {
    const own = JSON.parse(await Deno.readTextFile(`${SUPABASE}functions/${name}/deno.json`));
    assert.ok(Object.keys(own.imports).length > 0);
    for (const [specifier, target] of Object.entries(own.imports)) {
      assert.equal(target, root[specifier], `${name}/deno.json: "${specifier}"`);
    }
    const lock = JSON.parse(await Deno.readTextFile(`${SUPABASE}functions/${name}/deno.lock`));
    for (const [specifier, version] of Object.entries(lock.specifiers)) {
      assert.equal(version, rootLock[specifier], `${name}/deno.lock: "${specifier}"`);
    }
  }
});
