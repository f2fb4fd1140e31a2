/**
 * Shared pieces of the benchmark: statistics, the result table, a throw-away Hibiki system
 * over a real Deno KV file (or a fresh database on Postgres, `--store=postgres`), fast job
 * creation, the local target server (in a worker) and an event-loop lag monitor.
 */
import type { Clock } from "../lib/clock.ts";
import { type Config, parseConfig } from "../lib/config.ts";
import { randomBytes } from "../lib/crypto.ts";
import { Metrics } from "../lib/metrics.ts";
import { createKvStores, kvStores } from "../lib/store/kv/mod.ts";
import {
  connectPostgres,
  createPostgresStores,
  migrate,
  postgresStores,
  type Sql,
} from "../lib/store/postgres/mod.ts";
import type { Stores } from "../lib/store/stores.ts";
import { nextFireTimes, parseSchedule, type Schedule } from "../lib/schedule/schedule.ts";
import type { Store } from "../lib/store/store.ts";
import type { Job, Run } from "../lib/store/types.ts";
import { createSystem, type System } from "../system.ts";

// ---------------------------------------------------------------------------------------------
// Results

export type Op = "<=" | ">=" | "==";

export interface Metric {
  metric: string;
  value: number | null;
  unit: string;
  target?: { op: Op; value: number };
}

export interface ScenarioResult {
  metrics: Metric[];
  /** Anything else worth keeping in results.json (breakdowns, raw samples). */
  details: Record<string, unknown>;
}

export interface ScenarioOptions {
  quick: boolean;
  log: (message: string) => void;
  /**
   * `--profile`: main.ts profiles the bench's main thread itself; a scenario whose work runs
   * in a process it spawned (`monitors`) profiles that process too.
   */
  profile?: boolean;
}

export type Scenario = (options: ScenarioOptions) => Promise<ScenarioResult>;

export function passes(m: Metric): boolean | null {
  if (!m.target || m.value === null || Number.isNaN(m.value)) return m.target ? false : null;
  const { op, value } = m.target;
  if (op === "<=") return m.value <= value;
  if (op === ">=") return m.value >= value;
  return m.value === value;
}

export function targetText(m: Metric): string {
  if (!m.target) return "";
  const op = m.target.op === "<=" ? "≤" : m.target.op === ">=" ? "≥" : "=";
  return `${op} ${formatNumber(m.target.value)}${m.unit ? " " + m.unit : ""}`;
}

export function formatNumber(n: number | null): string {
  if (n === null || Number.isNaN(n)) return "n/a";
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  return n.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
}

export function printTable(rows: { scenario: string; metric: Metric; note?: string }[]): void {
  const body = rows.map(({ scenario, metric, note }) => {
    const pass = passes(metric);
    return [
      scenario,
      metric.metric,
      `${formatNumber(metric.value)}${metric.unit ? " " + metric.unit : ""}`,
      targetText(metric),
      pass === null ? "" : pass ? "pass" : "FAIL",
      note ?? "",
    ];
  });
  const header = ["scenario", "metric", "value", "target", "result", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const r of body) console.log(line(r));
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Nearest-rank percentile of unsorted numbers; null when empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function maxOf(values: number[]): number | null {
  let max: number | null = null;
  for (const v of values) if (max === null || v > max) max = v;
  return max;
}

export function summary(values: number[]): Record<string, number | null> {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: maxOf(values),
  };
}

// ---------------------------------------------------------------------------------------------
// Time

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export function sleepUntil(epochMs: number): Promise<void> {
  return sleep(epochMs - Date.now());
}

export function nextMinute(afterMs: number): number {
  return Math.floor(afterMs / 60_000) * 60_000 + 60_000;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Calls the cron tick at each minute boundary, as Deno.cron("* * * * *") does in main.ts. */
export function minuteTicker(
  system: System,
  log: (m: string) => void,
): { ticks: TickSample[]; stop: () => Promise<void> } {
  const ticks: TickSample[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = (async () => {
        const at = Date.now();
        const t = performance.now();
        try {
          const report = await system.cronTick() ??
            { jobs: 0, claimed: 0, missed: 0 };
          const sample = { at, ms: performance.now() - t, ...report };
          ticks.push(sample);
          log(
            `tick at ${iso(at)}: ${sample.ms.toFixed(0)} ms, ${report.jobs} jobs, ` +
              `${report.claimed} claimed, ${report.missed} missed`,
          );
        } catch (error) {
          log(`tick failed: ${(error as Error).message}`);
        }
      })();
      arm();
    }, nextMinute(Date.now()) - Date.now());
  };
  arm();
  return {
    ticks,
    stop: async () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}

export interface TickSample {
  /** Epoch ms when the tick started. */
  at: number;
  ms: number;
  jobs: number;
  claimed: number;
  missed: number;
}

// ---------------------------------------------------------------------------------------------
// A Hibiki system over a real KV file

/**
 * Where the scenarios keep their data: Deno KV files (the default), or databases made on the
 * Postgres server at `url` (bench/main.ts `--store=postgres`), one per environment.
 */
export type BenchStore = { kind: "kv" } | { kind: "postgres"; url: string };

let benchStore: BenchStore = { kind: "kv" };

export function setBenchStore(store: BenchStore): void {
  benchStore = store;
}

export function currentBenchStore(): BenchStore {
  return benchStore;
}

export interface BenchEnv {
  /** Which store this environment runs on. */
  store: BenchStore["kind"];
  /** The environment's database on Postgres (another process's DATABASE_URL); null on KV. */
  databaseUrl: string | null;
  dir: string;
  kvPath: string;
  /** The KV file's handle; throws on Postgres (scenarios that read keys run on KV only). */
  kv: Deno.Kv;
  /** Every run record in the store (scheduled and manual). */
  allRuns: () => Promise<Run[]>;
  /** How many run records the store holds (a bench-side check, not a measured read). */
  countRuns: () => Promise<number>;
  config: Config;
  system: System;
  /** The system's counters (given to it), to watch runs finish without scraping /metrics. */
  metrics: Metrics;
  /**
   * The stores over the same KV, for bulk set-up the API would make slow: they write what a
   * second Hibiki process on the same KV would, which the system reads as its own.
   */
  stores: Stores;
  /** The system's master key, for services built beside it that open its sealed secrets. */
  masterKey: Uint8Array;
  close: () => Promise<void>;
}

export interface EnvOptions {
  clock?: Clock;
  dir?: string;
  /** More configuration (environment variables) for the system. */
  env?: Record<string, string>;
  /** The system's master key (a random one by default). */
  masterKey?: Uint8Array;
}

export async function openEnv(name: string, options: EnvOptions = {}): Promise<BenchEnv> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: `hibiki-bench-${name}-` });
  const kvPath = `${dir}/hibiki.kv`;
  const config = parseConfig({
    HIBIKI_KV_PATH: kvPath,
    HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    HIBIKI_MAX_CONCURRENCY: "5000",
    ...options.env,
  });
  if (benchStore.kind === "postgres") {
    return await openPostgresEnv(benchStore.url, name, dir, config, options);
  }
  const kv = await Deno.openKv(kvPath);
  const metrics = new Metrics();
  const masterKey = options.masterKey ?? randomBytes(32);
  const system = createSystem(kvStores(kv), config, {
    queueWakeups: false,
    clock: options.clock,
    metrics,
    masterKey,
  });
  let closed = false;
  return {
    store: "kv",
    databaseUrl: null,
    dir,
    kvPath,
    kv,
    allRuns: () => listAllRuns(kv),
    countRuns: () => countKeys(kv, ["run"]),
    config,
    system,
    metrics,
    stores: createKvStores(kv, { clock: options.clock, retention: config.runRetention }),
    masterKey,
    close: async () => {
      if (closed) return;
      closed = true;
      kv.close();
      if (!options.dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * A system over a new database on the server at `serverUrl`, migrated as main.ts does, with a
 * pool as main.ts opens it; the database is dropped on close.
 */
async function openPostgresEnv(
  serverUrl: string,
  name: string,
  dir: string,
  config: Config,
  options: EnvOptions,
): Promise<BenchEnv> {
  const database = `hibiki_bench_${name.replaceAll(/[^a-z0-9]/g, "_")}_${Date.now()}`;
  await adminSql(serverUrl, (sql) => sql.unsafe(`create database ${database}`));
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const sql = connectPostgres(url.toString());
  await migrate(sql);
  const metrics = new Metrics();
  const masterKey = options.masterKey ?? randomBytes(32);
  const system = createSystem(postgresStores(sql), config, {
    queueWakeups: false,
    clock: options.clock,
    metrics,
    masterKey,
  });
  let closed = false;
  return {
    store: "postgres",
    databaseUrl: url.toString(),
    dir,
    kvPath: "",
    get kv(): Deno.Kv {
      throw new Error(`Cannot read Deno KV keys in the ${name} scenario: it runs on Postgres`);
    },
    allRuns: async () =>
      (await sql`select run from public.hibiki_runs`).map((r: Record<string, unknown>) =>
        r.run as Run
      ),
    countRuns: async () => Number((await sql`select count(*) as n from public.hibiki_runs`)[0].n),
    config,
    system,
    metrics,
    stores: createPostgresStores(sql, { clock: options.clock, retention: config.runRetention }),
    masterKey,
    close: async () => {
      if (closed) return;
      closed = true;
      await sql.end({ timeout: 5 });
      await adminSql(
        serverUrl,
        (admin) => admin.unsafe(`drop database if exists ${database} with (force)`),
      );
      if (!options.dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function adminSql<T>(url: string, use: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connectPostgres(url, { max: 1 });
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}

export const BENCH_USER = "u-bench";

export function makeJob(id: string, schedule: string, url: string): Job {
  const stamp = new Date().toISOString();
  return {
    id,
    userId: BENCH_USER,
    name: `bench ${id.slice(0, 8)}`,
    url,
    method: "GET",
    headers: null,
    body: null,
    schedule,
    timezone: "UTC",
    enabled: true,
    timeoutMs: 30_000,
    expect: null,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

/** First fire time of `schedule` for job `id` at or after `fromMs`. */
export function firstFireFrom(schedule: string, id: string, fromMs: number): number {
  const parsed = parseSchedule(schedule, { key: id });
  return nextFireTimes(parsed, fromMs - 1, { limit: 1 })[0];
}

/**
 * The fire time of an `@every` schedule that a hit arriving at `at` answers: the last one at
 * or before it (a hit is never early, and the bench's hits are far less than an interval
 * late). -1 for a cron schedule.
 */
export function intervalSlotOf(schedule: Schedule, at: number): number {
  if (schedule.kind !== "interval") return -1;
  // A job's fires come spreadMs after its intervals' start (lib/schedule/interval.ts).
  const phase = schedule.phaseMs + schedule.spreadMs;
  return phase + Math.floor((at - phase) / schedule.everyMs) * schedule.everyMs;
}

/** Writes jobs through `store.createJob` with `parallel` commits in flight; returns ms taken. */
export async function createJobs(
  store: Store,
  jobs: { job: Job; firstFireAt: number | null }[],
  parallel = 64,
): Promise<number> {
  const t = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { job, firstFireAt } = jobs[next++];
      await store.createJob(job, firstFireAt);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return performance.now() - t;
}

/** Every run record in the store (scheduled and manual). */
export async function listAllRuns(kv: Deno.Kv): Promise<Run[]> {
  const runs: Run[] = [];
  for await (const entry of kv.list<Run>({ prefix: ["run"] }, { batchSize: 1000 })) {
    // After each job's runs: its alert state and tally (lib/store/kv/keys.ts).
    if (typeof entry.key[3] === "number") runs.push(entry.value);
  }
  return runs;
}

/** Counts keys under a prefix. */
export async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix }, { batchSize: 1000 })) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Target server: Deno.serve on 127.0.0.1 in a worker, so answering does not compete with the
// system under test for its event loop (a real target lives on another machine).

export interface Target {
  port: number;
  url: (jobId: string) => string;
  /** Arrival times (epoch ms) per job id. */
  hits: () => Promise<Map<string, number[]>>;
  total: () => Promise<number>;
  close: () => Promise<void>;
}

export async function startTarget(): Promise<Target> {
  const worker = new Worker(new URL("./target_worker.ts", import.meta.url), { type: "module" });
  const waiters: ((data: Record<string, unknown>) => void)[] = [];
  let onReady: (port: number) => void;
  const ready = new Promise<number>((r) => (onReady = r));
  worker.onmessage = (e: MessageEvent<Record<string, unknown>>) => {
    if (e.data.type === "ready") onReady(e.data.port as number);
    else waiters.shift()?.(e.data);
  };
  const ask = (type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      waiters.push(resolve);
      worker.postMessage({ type });
    });
  const port = await ready;
  return {
    port,
    url: (jobId) => `http://127.0.0.1:${port}/?j=${jobId}`,
    hits: async () => {
      const data = await ask("hits");
      return new Map(Object.entries(data.hits as Record<string, number[]>));
    },
    total: async () => (await ask("total")).total as number,
    close: async () => {
      await ask("close");
      worker.terminate();
    },
  };
}

/**
 * Groups target hits by (job, fire slot) where `slotOf` maps an arrival to the fire time it
 * answers; returns extra hits (a slot hit n > 1 times adds n − 1) and the keys of such slots.
 */
export function duplicateHits(
  hits: Map<string, number[]>,
  slotOf: (jobId: string, arrival: number) => number,
  inWindow: (slot: number) => boolean = () => true,
): { duplicates: number; slots: number; examples: string[] } {
  let duplicates = 0;
  let slots = 0;
  const examples: string[] = [];
  for (const [jobId, times] of hits) {
    const seen = new Map<number, number>();
    for (const t of times) {
      const slot = slotOf(jobId, t);
      if (!inWindow(slot)) continue;
      seen.set(slot, (seen.get(slot) ?? 0) + 1);
    }
    for (const [slot, n] of seen) {
      slots++;
      if (n > 1) {
        duplicates += n - 1;
        if (examples.length < 5) examples.push(`${jobId}@${iso(slot)}×${n}`);
      }
    }
  }
  return { duplicates, slots, examples };
}

/** Runs that share (job, scheduledAt, trigger AUTO): extra records beyond the first. */
export function duplicateRuns(runs: Run[]): number {
  const seen = new Set<string>();
  let dup = 0;
  for (const r of runs) {
    if (r.trigger !== "AUTO") continue;
    const key = `${r.jobId}\u0000${r.scheduledAt}`;
    if (seen.has(key)) dup++;
    else seen.add(key);
  }
  return dup;
}

// ---------------------------------------------------------------------------------------------
// Event-loop lag: how late a 50 ms timer fires, as seen from the main thread.

export function lagMonitor(intervalMs = 50): { stop: () => { samples: number[]; at: number[] } } {
  const samples: number[] = [];
  const at: number[] = [];
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    samples.push(Math.max(0, now - expected));
    at.push(Date.now());
    expected = now + intervalMs;
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { samples, at };
    },
  };
}

/** The commit under test and whether lib/, routes/ or main.ts had uncommitted changes. */
export function gitInfo(): { commit: string | null; dirty: string[] } {
  const git = (...args: string[]) => {
    try {
      const out = new Deno.Command("git", { args, cwd: new URL("../", import.meta.url) })
        .outputSync();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
    } catch {
      return null;
    }
  };
  const status = git("status", "--porcelain", "--", "lib", "routes", "main.ts") ?? "";
  return {
    commit: git("rev-parse", "--short", "HEAD"),
    dirty: status.split("\n").filter(Boolean).map((l) => l.trim()),
  };
}

export function machineInfo(): Record<string, unknown> {
  let cpuModel: string | null = null;
  try {
    const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
    cpuModel = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? null;
  } catch {
    // not Linux
  }
  return {
    deno: Deno.version,
    hardwareConcurrency: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    osRelease: Deno.osRelease(),
    cpuModel,
    totalMemoryMb: Math.round(Deno.systemMemoryInfo().total / 1024 / 1024),
    loadavg: Deno.loadavg(),
    date: new Date().toISOString(),
    git: gitInfo(),
  };
}

/**
 * CPU time (ms) used so far by each thread of process `pid` (this one by default), by thread
 * name ("deno" is the main thread; "sw-0" is Deno KV's SQLite writer). Linux only; empty
 * elsewhere. CPU time per unit of work is far steadier than throughput on a shared machine.
 * Read through `cat`: Deno lets only --allow-all read /proc/self/task or another process's
 * /proc entries.
 */
export async function threadCpuMs(pid = Deno.pid): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const script = `for t in /proc/${pid}/task/*; do cat "$t/stat"; echo; done`;
  const result = await new Deno.Command("sh", { args: ["-c", script], stderr: "null" }).output()
    .catch(() => null);
  if (!result?.success) return out;
  for (const line of new TextDecoder().decode(result.stdout).split("\n")) {
    const stat = statCpuMs(line);
    if (stat) out[stat.name] = (out[stat.name] ?? 0) + stat.ms;
  }
  return out;
}

/**
 * CPU time (ms, user + system) used so far by process `pid`, all its threads together,
 * those that have ended included (which a sum over /proc/<pid>/task would miss); null when
 * the process is gone or this is not Linux.
 */
export async function processCpuMs(pid: number): Promise<number | null> {
  const result = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
    .output().catch(() => null);
  if (!result?.success) return null;
  return statCpuMs(new TextDecoder().decode(result.stdout).trim())?.ms ?? null;
}

/** utime + stime of one /proc `stat` line, with the name it gives. */
function statCpuMs(line: string): { name: string; ms: number } | null {
  const match = /^\d+ \((.*)\) (.*)$/.exec(line);
  if (!match) return null;
  // After the name: utime and stime are the 12th and 13th fields, in 10 ms ticks.
  const fields = match[2].split(" ");
  return { name: match[1], ms: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/** Per-thread CPU ms of process `pid` since an earlier `threadCpuMs(pid)` reading. */
export async function cpuSince(
  before: Record<string, number>,
  pid = Deno.pid,
): Promise<Record<string, number>> {
  const now = await threadCpuMs(pid);
  return Object.fromEntries(
    Object.entries(now)
      .map(([name, ms]): [string, number] => [name, ms - (before[name] ?? 0)])
      .filter(([, ms]) => ms > 0),
  );
}
