/**
 * What the server loads at start-up, read from Deno's module graph (`deno info --json`): each
 * npm package costs resident memory for as long as the process runs (jose's root module, ~50
 * modules, was ~3 MB of RSS with 10,000 jobs firing), so a package used only now and then is
 * imported where it is used (`await import(…)`), not with the server.
 */
import assert from "node:assert/strict";
import { REPO } from "./subprocess.ts";

/** npm packages reached from `entry` through static imports that carry code (not types). */
async function npmPackagesAtStart(entry: string): Promise<string[]> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--no-npm", "--no-remote", entry],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, `deno info ${entry} failed: ${new TextDecoder().decode(stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [...info.roots];
  while (queue.length > 0) {
    const module = bySpecifier.get(queue.shift()!);
    for (const dep of module?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (!target || dep.isDynamic) continue;
      const npm = /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(target);
      if (npm) packages.add(npm[1]);
      else if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return [...packages].sort();
}

Deno.test("main.ts loads at start-up only the npm packages its request paths need, jose at the first Google call", async () => {
  assert.deepEqual(await npmPackagesAtStart("main.ts"), [
    "hono",
    "preact",
    "preact-render-to-string",
    "zod",
  ]);
});
