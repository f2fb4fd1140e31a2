/**
 * The shape of the house, read from Deno's own module graph (`deno info --json`): no module
 * imports itself back through others, the domain (`lib/`) never reaches into the HTTP
 * surface (`routes/`) or the markup (`components/`), and only the store (`lib/store/kv/`)
 * talks to Deno KV. Type-only imports count too: a loop made
 * of them still means two modules cannot be read, moved or tested one without the other.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { REPO } from "./subprocess.ts";

/**
 * Import loops that are known and not yet untangled, each as its sorted member list. Empty:
 * keep it so, or say here why a loop has to stay.
 */
const KNOWN_CYCLES: string[][] = [];

/** Modules under lib/ that may still import routes/ or components/. */
const LIB_MAY_IMPORT_SURFACE = new Set<string>([]);

/**
 * Modules under lib/ outside the store that may still use Deno KV, each with its reason. Keep
 * it shrinking.
 */
const KV_OUTSIDE_STORE = new Map<string, string>([
  ["lib/worker/result_outbox.ts", "the probe worker's own outbox, on its own file"],
]);

/** Deno KV's API: its types, atomic operations and versionstamps. */
const DENO_KV_API =
  /\bDeno\.(?:Kv\w*|AtomicOperation|AtomicCheck|openKv)\b|\.atomic\(|\bversionstamp/;

/** Tests (and their shared set-up) may open and read the real store they run on. */
function isTest(path: string): boolean {
  return /_test\.tsx?$/.test(path) || path.endsWith("/test_support.ts");
}

/** Folders that are not the project's own source. */
const SKIP = new Set([".git", "data", "node_modules", "static/build"]);

type Graph = Map<string, Set<string>>;

/** Every .ts and .tsx file of the project, relative to the repository root. */
async function sourceFiles(dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${REPO}${dir}`)) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (SKIP.has(path)) continue;
    if (entry.isDirectory) out.push(...await sourceFiles(path));
    else if (entry.isFile && /\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

interface InfoModule {
  local?: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** Each project file and the project files it imports (code, types and dynamic imports). */
async function projectGraph(): Promise<Graph> {
  const graph: Graph = new Map();
  const own = (specifier: string | undefined) => {
    if (!specifier?.startsWith("file://")) return null;
    const path = relative(REPO, new URL(specifier).pathname);
    return path.startsWith("..") ? null : path;
  };
  // One `deno info` reaches everything its root imports; only files no earlier root reached
  // need their own (tests, scripts, island entries).
  for (const file of ["main.ts", "worker.ts", ...await sourceFiles()]) {
    if (graph.has(file)) continue;
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--no-npm", "--no-remote", file],
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, `deno info ${file} failed: ${new TextDecoder().decode(stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as { modules: InfoModule[] };
    for (const module of info.modules) {
      const path = own(module.local && `file://${module.local}`);
      if (!path || graph.has(path)) continue;
      const deps = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const target of [own(dep.code?.specifier), own(dep.type?.specifier)]) {
          if (target) deps.add(target);
        }
      }
      graph.set(path, deps);
    }
  }
  return graph;
}

/** Strongly connected groups of more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || graph.get(v)?.has(v)) found.push(group.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One concrete loop through a group's first member, for a message a reader can follow. */
function loopThrough(graph: Graph, group: string[]): string {
  const members = new Set(group);
  const start = group[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0])!);
        return [...path, start].join(" → ");
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return group.join(", ");
}

let read: Promise<Graph> | undefined;
/** Read once for both tests. */
function theGraph(): Promise<Graph> {
  return read ??= projectGraph();
}

Deno.test("no module of the project imports itself back through others", async () => {
  const graph = await theGraph();
  assert.ok(graph.has("main.ts") && graph.has("routes/admin/mod.ts"), "the graph was read");
  const known = new Set(KNOWN_CYCLES.map((group) => group.join(" ")));
  const found = cycles(graph);
  const unknown = found.filter((group) => !known.has(group.join(" ")));
  const loops = unknown.map((group) =>
    `${loopThrough(graph, group)} (a loop group of ${group.length}: ${group.join(", ")})`
  );
  assert.deepEqual(loops, [], "import loops");
  const gone = [...known].filter((k) => !found.some((group) => group.join(" ") === k));
  assert.deepEqual(gone, [], "loops in KNOWN_CYCLES that no longer exist: remove them");
});

Deno.test("nothing under lib/ imports routes/ or components/", async () => {
  const graph = await theGraph();
  const reaching = new Map<string, string[]>();
  for (const [from, deps] of graph) {
    if (!from.startsWith("lib/")) continue;
    const surface = [...deps].filter((to) => /^(routes|components)\//.test(to));
    if (surface.length > 0) reaching.set(from, surface.sort());
  }
  const unexpected = [...reaching].filter(([from]) => !LIB_MAY_IMPORT_SURFACE.has(from));
  assert.deepEqual(unexpected.map(([from, to]) => `${from} → ${to.join(", ")}`), []);
  const stale = [...LIB_MAY_IMPORT_SURFACE].filter((from) => !reaching.has(from));
  assert.deepEqual(stale, [], "LIB_MAY_IMPORT_SURFACE entries that no longer hold: remove them");
});

Deno.test("only lib/store/kv talks to Deno KV: nothing else in lib/ uses its API or imports it", async () => {
  const graph = await theGraph();
  const found: string[] = [];
  const stillUsing = new Set<string>();
  for (const file of await sourceFiles("lib")) {
    if (file.startsWith("lib/store/kv/") || isTest(file)) continue;
    const uses: string[] = [];
    (await Deno.readTextFile(`${REPO}${file}`)).split("\n").forEach((line, i) => {
      if (DENO_KV_API.test(line)) uses.push(`${file}:${i + 1}: ${line.trim()}`);
    });
    for (const to of graph.get(file) ?? []) {
      if (to.startsWith("lib/store/kv/")) uses.push(`${file} imports ${to}`);
    }
    if (uses.length > 0 && KV_OUTSIDE_STORE.has(file)) stillUsing.add(file);
    else found.push(...uses);
  }
  assert.deepEqual(found, [], "Deno KV outside lib/store/kv: move it into the store");
  const stale = [...KV_OUTSIDE_STORE.keys()].filter((file) => !stillUsing.has(file));
  assert.deepEqual(stale, [], "KV_OUTSIDE_STORE entries that no longer hold: remove them");
});
