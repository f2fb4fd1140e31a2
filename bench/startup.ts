/**
 * startup + RSS: `deno run … main.ts` as a subprocess over a KV file holding 10,000 jobs
 * `@every 60s`. Measures spawn → first 200 from `GET /healthz` (three short-lived starts and
 * the long-lived one), and the RSS of the long-lived process after 70 s of running (15 s with
 * --quick) while it fires the jobs at the bench's target server. Baselines: spawn → exit of an
 * empty script, and spawn → first 200 of a trivial Deno.serve script.
 */
import {
  createJobs,
  firstFireFrom,
  makeJob,
  maxOf,
  median,
  openEnv,
  type ScenarioOptions,
  type ScenarioResult,
  sleep,
  startTarget,
} from "./util.ts";

const JOBS = 10_000;
const SCHEDULE = "@every 60s";
const SHORT_STARTS = 3;
const HEALTH_TIMEOUT_MS = 30_000;
const PROJECT = new URL("../", import.meta.url);

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The environment and V8 flags of `deno task start` (deno.json), so the server measured here
 * runs as it does in production; only its file permissions are pointed at the bench's folder.
 */
export const START_TASK = (() => {
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const words = (deno.tasks.start as string).split(/\s+/);
  const env = Object.fromEntries(
    words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => {
      const eq = w.indexOf("="); // a value may hold "=" too (GLIBC_TUNABLES=glibc.malloc.x=1)
      return [w.slice(0, eq), w.slice(eq + 1)];
    }),
  );
  const v8Flags = words.filter((w) => w.startsWith("--v8-flags="));
  return { env, v8Flags };
})();

/**
 * `deno task start`'s command with its file permissions pointed at `dir` (the pass's KV file
 * and master key); `flags` go before the script (`--inspect=…` for a profile).
 */
export function startArgs(dir: string, flags: string[] = []): string[] {
  return [
    "run",
    ...START_TASK.v8Flags,
    "--allow-net",
    "--allow-env",
    `--allow-read=.,${dir}`,
    `--allow-write=${dir}`,
    ...flags,
    "main.ts",
  ];
}

export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("HIBIKI_") && k !== "PORT"),
  );
  return { ...env, ...START_TASK.env, ...extra };
}

export interface Child {
  process: Deno.ChildProcess;
  spawnedAt: number;
  output: () => Promise<string>;
}

export function spawn(args: string[], env: Record<string, string>): Child {
  const command = new Deno.Command(Deno.execPath(), {
    args,
    cwd: decodeURIComponent(PROJECT.pathname),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const spawnedAt = performance.now();
  const process = command.spawn();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      if (text.length < 20_000) text += decoder.decode(chunk, { stream: true });
    }
    return text;
  };
  const out = collect(process.stdout);
  const err = collect(process.stderr);
  return { process, spawnedAt, output: async () => (await out) + (await err) };
}

/** Polls until `url` answers 200; returns ms since the child was spawned. */
export async function untilHealthy(child: Child, url: string): Promise<number> {
  let exited = false;
  child.process.status.then(() => (exited = true));
  while (performance.now() - child.spawnedAt < HEALTH_TIMEOUT_MS && !exited) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return performance.now() - child.spawnedAt;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
  throw new Error(
    `${url} not healthy: ${exited ? "process exited" : "timed out"}\n` +
      (await child.output()).slice(0, 2000),
  );
}

export async function terminate(child: Child): Promise<void> {
  try {
    child.process.kill("SIGTERM");
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.process.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, 20_000);
  await child.process.status;
  clearTimeout(timer);
  await child.output();
}

export interface RssSample {
  rssMb: number;
  hwmMb: number;
  /** Anonymous memory (heaps) and file-backed pages (binary, mapped files) within RSS. */
  anonMb: number;
  fileMb: number;
}

/**
 * VmRSS and VmHWM of `pid`. Deno refuses to read another process's /proc entries without
 * --allow-all, so `cat` reads them (the bench task has --allow-run).
 */
export async function readStatus(pid: number): Promise<RssSample | null> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
    .output();
  if (!out.success) return null;
  const status = new TextDecoder().decode(out.stdout);
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return {
    rssMb: kb("VmRSS") / 1024,
    hwmMb: kb("VmHWM") / 1024,
    anonMb: kb("RssAnon") / 1024,
    fileMb: kb("RssFile") / 1024,
  };
}

export async function startup({ quick, log }: ScenarioOptions): Promise<ScenarioResult> {
  const runForMs = quick ? 15_000 : 70_000;
  const target = await startTarget();
  const dir = await Deno.makeTempDir({ prefix: "hibiki-bench-startup-" });
  try {
    // ---- Baselines: deno itself.
    await Deno.writeTextFile(`${dir}/empty.ts`, "");
    await Deno.writeTextFile(
      `${dir}/serve.ts`,
      `Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen() {} }, () => new Response("ok"));\n`,
    );
    const emptyMs: number[] = [];
    const serveMs: number[] = [];
    let serveRss: number | null = null;
    for (let i = 0; i < 4; i++) {
      const child = spawn(["run", `${dir}/empty.ts`], childEnv({}));
      await child.process.status;
      if (i > 0) emptyMs.push(performance.now() - child.spawnedAt); // first one warms caches
      await child.output();
      const port = freePort();
      const server = spawn(
        ["run", "--allow-net", "--allow-env=PORT", `${dir}/serve.ts`],
        childEnv({
          PORT: String(port),
        }),
      );
      const ms = await untilHealthy(server, `http://127.0.0.1:${port}/`);
      if (i > 0) serveMs.push(ms);
      serveRss = (await readStatus(server.process.pid))?.rssMb ?? null;
      await terminate(server);
    }
    log(
      `baseline: empty script ${emptyMs.map((x) => x.toFixed(0)).join(", ")} ms; ` +
        `trivial server ${serveMs.map((x) => x.toFixed(0)).join(", ")} ms`,
    );

    // ---- A store with 10,000 jobs, first fires a few seconds after it is written.
    const env = await openEnv("startup", { dir });
    const base = Date.now() + 3_000 + JOBS / 1.5 + 3_000;
    const jobs = Array.from({ length: JOBS }, () => {
      const id = crypto.randomUUID();
      return {
        job: makeJob(id, SCHEDULE, target.url(id)),
        firstFireAt: firstFireFrom(SCHEDULE, id, base),
      };
    });
    const createMs = await createJobs(env.stores.records, jobs);
    await env.close();
    const kvSize = (await Deno.stat(env.kvPath)).size;
    log(
      `store with ${JOBS} jobs written in ${createMs.toFixed(0)} ms (${
        (kvSize / 1e6).toFixed(1)
      } MB)`,
    );

    const args = startArgs(dir);
    const envFor = (port: number) =>
      childEnv({
        PORT: String(port),
        HIBIKI_HOSTNAME: "127.0.0.1",
        HIBIKI_KV_PATH: env.kvPath,
        HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
        HIBIKI_MAX_CONCURRENCY: "5000",
      });

    // ---- Short-lived starts (the first also creates the development master key).
    const startMs: number[] = [];
    for (let i = 0; i < SHORT_STARTS; i++) {
      const port = freePort();
      const child = spawn(args, envFor(port));
      startMs.push(await untilHealthy(child, `http://127.0.0.1:${port}/healthz`));
      await terminate(child);
    }

    // ---- The long-lived one: start time, then RSS while it fires jobs.
    const port = freePort();
    const hitsBefore = await target.total();
    const child = spawn(args, envFor(port));
    startMs.push(await untilHealthy(child, `http://127.0.0.1:${port}/healthz`));
    log(`spawn → /healthz 200: ${startMs.map((x) => x.toFixed(0)).join(", ")} ms`);
    const rssSeries: { s: number; rssMb: number; anonMb: number; fileMb: number }[] = [];
    let sample: RssSample | null = null;
    while (performance.now() - child.spawnedAt < runForMs) {
      await sleep(Math.min(5_000, runForMs - (performance.now() - child.spawnedAt)));
      sample = await readStatus(child.process.pid);
      if (sample) {
        rssSeries.push({
          s: Math.round((performance.now() - child.spawnedAt) / 1000),
          rssMb: Math.round(sample.rssMb),
          anonMb: Math.round(sample.anonMb),
          fileMb: Math.round(sample.fileMb),
        });
      }
    }
    const runsFired = (await target.total()) - hitsBefore;
    log(
      `after ${runForMs / 1000} s: RSS ${sample?.rssMb.toFixed(0)} MB, peak ` +
        `${sample?.hwmMb.toFixed(0)} MB, ${runsFired} runs fired at the target`,
    );
    await terminate(child);
    const output = await child.output();

    return {
      metrics: [
        {
          metric: "spawn → /healthz 200 (median)",
          value: median(startMs),
          unit: "ms",
          target: { op: "<=", value: 1000 },
        },
        { metric: "spawn → /healthz 200 (max)", value: maxOf(startMs), unit: "ms" },
        { metric: "baseline: empty script spawn → exit", value: median(emptyMs), unit: "ms" },
        { metric: "baseline: trivial Deno.serve spawn → 200", value: median(serveMs), unit: "ms" },
        {
          metric: `RSS after ${runForMs / 1000} s`,
          value: sample?.rssMb ?? null,
          unit: "MB",
          target: { op: "<=", value: 200 },
        },
        { metric: "peak RSS (VmHWM)", value: sample?.hwmMb ?? null, unit: "MB" },
        { metric: "  of which RssAnon (heaps)", value: sample?.anonMb ?? null, unit: "MB" },
        {
          metric: "  of which RssFile (binary, mapped files)",
          value: sample?.fileMb ?? null,
          unit: "MB",
        },
        { metric: "baseline: trivial Deno.serve RSS", value: serveRss, unit: "MB" },
        { metric: "runs fired while sampled", value: runsFired, unit: "" },
      ],
      details: {
        jobs: JOBS,
        kvBytes: kvSize,
        startMs,
        baselineEmptyMs: emptyMs,
        baselineServeMs: serveMs,
        rssAtEnd: sample,
        rssSeries,
        childOutput: output.slice(0, 4000),
      },
    };
  } finally {
    await target.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
