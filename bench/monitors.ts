/**
 * monitors (issue 15): N monitors `@every 20s` (N = 1,000, 5,000, 10,000, one after the
 * other), each with alerting on and the same one webhook channel, as a user would run them:
 * a Hibiki server as `deno task start` runs it, in its own process on a fresh KV file, given
 * the channel and the monitors through its HTTP API (`POST /api/channels`, `POST /api/jobs`
 * with the root key). Their target is a process of its own (bench/monitor_target.ts) that
 * notes when each monitor's check arrives. After a warm-up (30 s once every monitor exists;
 * 20 s, one interval, with --quick) comes a window of 240 s (60 s with --quick), over which:
 *
 * - CPU per check: the server process's user + system time (every thread: the main one, the
 *   KV writer, V8's collector) from /proc/<pid>/stat at the window's start and end, divided by
 *   the checks that arrived at the target meanwhile; share of a core is that CPU over the
 *   window's length.
 * - RSS peak: the most VmRSS read once a second within the window (VmHWM would hold
 *   start-up and the monitors' creation too).
 * - |gap − 20 s|: between consecutive checks of a monitor whose fire times are both in the
 *   window, p50/p95/p99/max over all of them.
 * - Lost: fire times in the window (the schedule's phase, from the job id) with no check
 *   arriving; doubled: a fire time answered by more than one check. Cross-checked from the
 *   run records in the KV file once the server has stopped.
 *
 * `--profile` runs only N = 5,000 (or the first of HIBIKI_BENCH_MONITORS) and profiles the server over the window through its
 * inspector (`--inspect`; bench/profile.ts `profileChild`), writing
 * `bench/monitors-server.cpuprofile` and printing the functions with the most self time, in
 * µs a check. The profiler's own thread is left out of CPU per check, but sampling every
 * 200 µs still slows the main thread: profiled figures read high.
 */
import { randomBytes } from "../lib/crypto.ts";
import { BUCKETS_MS } from "../lib/stats/job_stats.ts";
import { getMany } from "../lib/store/kv/get_many.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import { openKv } from "../lib/store/kv/open_kv.ts";
import { packTally, unpackTally } from "../lib/store/kv/job_tally.ts";
import { KvJobStatsStore } from "../lib/store/kv/stats.ts";
import {
  appendRecent,
  RECENT_ENTRY_BYTES,
  RECENT_MAX,
  recentEntry,
} from "../lib/store/recent_results.ts";
import type { JobStatsRecord } from "../lib/store/types.ts";
import { nextFireTimes, parseSchedule, type Schedule } from "../lib/schedule/schedule.ts";
import { type Profile, profileChild, selfTimes } from "./profile.ts";
import {
  type Child,
  childEnv,
  freePort,
  readStatus,
  type RssSample,
  spawn,
  startArgs,
  terminate,
  untilHealthy,
} from "./startup.ts";
import {
  cpuSince,
  duplicateHits,
  duplicateRuns,
  intervalSlotOf,
  iso,
  listAllRuns,
  maxOf,
  type Metric,
  percentile,
  processCpuMs,
  type Scenario,
  sleep,
  sleepUntil,
  threadCpuMs,
} from "./util.ts";

const SIZES = [1_000, 5_000, 10_000];
const PROFILED_SIZE = 5_000;
/**
 * `HIBIKI_BENCH_MONITORS=10000[,…]` runs only those N (and profiles the first of them): for
 * looking at one size while working on it.
 */
const ONLY = Deno.env.get("HIBIKI_BENCH_MONITORS")?.split(",").map(Number).filter((n) => n > 0);
const SCHEDULE = "@every 20s";
const INTERVAL_MS = 20_000;
/** After the last monitor is created: over one interval, so each has fired before the window. */
const WARM_UP_MS = { full: 30_000, quick: 20_000 };
/** Checks fired at the end of the window get this long to arrive before arrivals are read. */
const GRACE_MS = 5_000;
/** Lateness of arrivals is kept by fire time in buckets this long (results.json details). */
const LATENESS_BUCKET_MS = 5_000;
/** Monitors created through the API at once. */
const CREATE_PARALLEL = 8;
/** The thread V8's CPU profiler samples from (its name as /proc shows it, cut at 15 bytes). */
const PROFILER_THREAD = "v8:ProfEvntProc";
const PROFILE_FILE = new URL("./monitors-server.cpuprofile", import.meta.url);

/** Targets from the issue, by N. */
const TARGETS = {
  cpuPerCheckMs: new Set([5_000, 10_000]),
  gapP99Ms: new Map([[1_000, 10], [10_000, 25]]),
  rssMb: new Set([10_000]),
};

interface Pass {
  monitors: number;
  cpuPerCheckMs: number | null;
  coreShare: number | null;
  rssPeakMb: number | null;
  gap: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  checks: number;
  lost: number;
  doubled: number;
  storedLost: number;
  storedDoubled: number;
  details: Record<string, unknown>;
}

export const monitors: Scenario = async ({ quick, profile, log }) => {
  const windowMs = quick ? 60_000 : 240_000;
  const warmUpMs = quick ? WARM_UP_MS.quick : WARM_UP_MS.full;
  const sizes = profile ? [ONLY?.[0] ?? PROFILED_SIZE] : ONLY?.length ? ONLY : SIZES;
  const metrics: Metric[] = [];
  const passes: Record<string, unknown> = {};
  for (const n of sizes) {
    const label = `${n.toLocaleString("en")} monitors`;
    const pass = await runPass(
      n,
      { windowMs, warmUpMs, profile: profile ?? false },
      (m) => log(`${label}: ${m}`),
    );
    passes[n] = pass.details;
    const gapTarget = TARGETS.gapP99Ms.get(n);
    metrics.push(
      {
        metric: `${label}: CPU per check`,
        value: pass.cpuPerCheckMs,
        unit: "ms",
        target: TARGETS.cpuPerCheckMs.has(n) ? { op: "<=", value: 0.5 } : undefined,
      },
      { metric: `${label}: share of a core`, value: pass.coreShare, unit: "%" },
      {
        metric: `${label}: RSS peak`,
        value: pass.rssPeakMb,
        unit: "MB",
        target: TARGETS.rssMb.has(n) ? { op: "<=", value: 200 } : undefined,
      },
      { metric: `${label}: |gap − 20 s| p50`, value: pass.gap.p50, unit: "ms" },
      { metric: `${label}: |gap − 20 s| p95`, value: pass.gap.p95, unit: "ms" },
      {
        metric: `${label}: |gap − 20 s| p99`,
        value: pass.gap.p99,
        unit: "ms",
        target: gapTarget === undefined ? undefined : { op: "<=", value: gapTarget },
      },
      { metric: `${label}: |gap − 20 s| max`, value: pass.gap.max, unit: "ms" },
      { metric: `${label}: checks in window`, value: pass.checks, unit: "" },
      { metric: `${label}: lost checks`, value: pass.lost, unit: "", target: zero() },
      { metric: `${label}: doubled checks`, value: pass.doubled, unit: "", target: zero() },
      {
        metric: `${label}: lost (stored runs)`,
        value: pass.storedLost,
        unit: "",
        target: zero(),
      },
      {
        metric: `${label}: doubled (stored runs)`,
        value: pass.storedDoubled,
        unit: "",
        target: zero(),
      },
    );
  }
  return {
    metrics,
    details: { schedule: SCHEDULE, warmUpMs, windowMs, passes },
  };
};

function zero(): Metric["target"] {
  return { op: "==", value: 0 };
}

async function runPass(
  n: number,
  options: { windowMs: number; warmUpMs: number; profile: boolean },
  log: (m: string) => void,
): Promise<Pass> {
  const dir = await Deno.makeTempDir({ prefix: `hibiki-bench-monitors-${n}-` });
  const kvPath = `${dir}/hibiki.kv`;
  const children: Child[] = [];
  try {
    const inspectPort = options.profile ? freePort() : null;
    const { server, targetUrl, api, healthyMs } = await startProcesses(
      { dir, kvPath, inspectPort },
      children,
      log,
    );
    const pid = server.process.pid;
    const { jobIds, createMs, channelId } = await createMonitors(api, n, targetUrl);
    log(
      `created ${n} monitors in ${(createMs / 1000).toFixed(1)} s (${
        (n / createMs * 1000).toFixed(0)
      }/s); channel ${channelId}`,
    );
    const seedStart = performance.now();
    await seedDayOfHistory(kvPath, [...jobIds.values()]);
    log(`gave each a day of history in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    // ---- Warm-up, then the window.
    const start = Date.now() + options.warmUpMs;
    const end = start + options.windowMs;
    log(`window ${iso(start)} → ${iso(end)}`);
    await sleepUntil(start - (inspectPort ? 1_000 : 0));
    const stopProfile = inspectPort ? await profileChild(inspectPort) : null;
    await sleepUntil(start);
    const loadAtStart = Deno.loadavg();
    const sampled = await sampleUntil(pid, end);
    const profile = stopProfile ? await stopProfile() : null;
    await sleep(GRACE_MS);
    const { arrivals, channelMessages } = await (await fetch(`${targetUrl}/__arrivals`))
      .json() as { arrivals: Record<string, number[]>; channelMessages: number };
    await terminate(server);

    const { cpuFrom, cpuTo, threads, rss } = sampled;
    const window = { start, end, cpuFrom, cpuTo };
    const seen = fromArrivals(jobIds, arrivals, window);
    const stored = await fromStoredRuns(kvPath, seen.expected, window);
    const { checks, gaps, lost, doubled } = seen;
    const worstLateness = [...seen.latenessTimeline].sort((a, b) => (b.max ?? 0) - (a.max ?? 0))
      .slice(0, 5);

    // Under --profile, V8's sampler thread is the bench's cost, not the server's; the
    // sampling's cost on the main thread stays in (profiled figures read high).
    const cpuMs = sampled.cpuMs === null ? null : sampled.cpuMs - (threads[PROFILER_THREAD] ?? 0);
    const pass: Pass = {
      monitors: n,
      cpuPerCheckMs: cpuMs === null || checks === 0 ? null : cpuMs / checks,
      coreShare: cpuMs === null ? null : (100 * cpuMs) / (cpuTo - cpuFrom),
      rssPeakMb: maxOf(rss.map((x) => x.rssMb)),
      gap: {
        p50: percentile(gaps, 50),
        p95: percentile(gaps, 95),
        p99: percentile(gaps, 99),
        max: maxOf(gaps),
      },
      checks,
      lost,
      doubled: doubled.duplicates,
      storedLost: stored.lost,
      storedDoubled: stored.doubled,
      details: {
        window: { start: iso(start), end: iso(end) },
        createMs: Math.round(createMs),
        healthyMs: Math.round(healthyMs),
        cpuMs,
        threadCpuMs: threads,
        rssSamples: rss.length,
        vmHwmMbAtEnd: rss.at(-1)?.hwmMb ?? null,
        rssAnonMbAtEnd: rss.at(-1)?.anonMb ?? null,
        gaps: gaps.length,
        failedRuns: stored.failed,
        channelMessages,
        unknownPaths: seen.unknownPaths,
        doubledExamples: doubled.examples,
        arrivalLatenessP99Ms: seen.latenessP99,
        worstLateness,
        latenessTimeline: seen.latenessTimeline,
        loadavg: { atStart: loadAtStart, atEnd: Deno.loadavg() },
        serverOutput: (await server.output()).slice(0, 2000),
      },
    };
    log(
      `${checks} checks, CPU ${cpuMs} ms (${pass.cpuPerCheckMs?.toFixed(3)} ms a check, ` +
        `${pass.coreShare?.toFixed(1)} % of a core; ${JSON.stringify(threads)}), RSS peak ` +
        `${pass.rssPeakMb?.toFixed(0)} MB; |gap − 20 s| p50 ${pass.gap.p50?.toFixed(1)}, ` +
        `p95 ${pass.gap.p95?.toFixed(1)}, p99 ${pass.gap.p99?.toFixed(1)}, max ` +
        `${pass.gap.max?.toFixed(1)} ms; lost ${lost}, doubled ${pass.doubled}; stored runs: ` +
        `lost ${stored.lost}, doubled ${stored.doubled}, failed ${stored.failed}; ` +
        `${channelMessages} channel messages; arrival lateness p99 ` +
        `${seen.latenessP99?.toFixed(1)} ms, worst 5 s: ${
          JSON.stringify(worstLateness.slice(0, 3))
        }; ` +
        `load ${loadAtStart.map((x) => x.toFixed(2)).join(" ")} at the ` +
        `window's start, ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")} at its end`,
    );
    if (profile) await reportProfile(profile, checks, log);
    return pass;
  } finally {
    for (const child of children.reverse()) await terminate(child).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The target, then the server, each a process of its own (added to `children` as they start,
 * for the caller to end); checks that the server's pid is deno itself.
 */
async function startProcesses(
  options: { dir: string; kvPath: string; inspectPort: number | null },
  children: Child[],
  log: (m: string) => void,
) {
  const targetPort = freePort();
  const target = spawn(
    ["run", "--allow-net=127.0.0.1", "--allow-env=PORT", "bench/monitor_target.ts"],
    childEnv({ PORT: String(targetPort) }),
  );
  children.push(target);
  const targetUrl = `http://127.0.0.1:${targetPort}`;
  await untilHealthy(target, `${targetUrl}/__health`);

  const port = freePort();
  const apiKey = randomBytes(32).toBase64();
  const { inspectPort } = options;
  const server = spawn(
    startArgs(options.dir, inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    childEnv({
      PORT: String(port),
      HIBIKI_HOSTNAME: "127.0.0.1",
      HIBIKI_KV_PATH: options.kvPath,
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
      HIBIKI_API_KEY: apiKey,
      HIBIKI_MASTER_KEY: randomBytes(32).toBase64(),
    }),
  );
  children.push(server);
  const base = `http://127.0.0.1:${port}`;
  const healthyMs = await untilHealthy(server, `${base}/healthz`);
  const pid = server.process.pid;
  const command = await commandOf(pid);
  // The figures are of this pid: it must be deno running main.ts, not a shell around it.
  if (!/(^|\/)deno\b/.test(command[0] ?? "") || !command.includes("main.ts")) {
    throw new Error(`Cannot measure pid ${pid}: it runs "${command.join(" ")}", not deno`);
  }
  log(`server pid ${pid} (${command[0]} … main.ts) healthy in ${healthyMs.toFixed(0)} ms`);
  return { server, targetUrl, api: apiClient(base, apiKey), healthyMs };
}

/**
 * Reads the server's CPU (the process's, and by thread) now and at `end`, and its RSS once a
 * second between.
 */
async function sampleUntil(pid: number, end: number) {
  const threads0 = await threadCpuMs(pid);
  const cpu0 = await processCpuMs(pid);
  const cpuFrom = Date.now();
  const rss: RssSample[] = [];
  while (Date.now() < end) {
    await sleep(Math.min(1_000, end - Date.now()));
    const status = await readStatus(pid);
    if (status) rss.push(status);
  }
  const cpu1 = await processCpuMs(pid);
  const cpuTo = Date.now();
  return {
    cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
    threads: await cpuSince(threads0, pid),
    cpuFrom,
    cpuTo,
    rss,
  };
}

/** One webhook channel on the target, then `n` monitors telling it, through the API. */
async function createMonitors(api: ApiClient, n: number, targetUrl: string) {
  const channel = await api.post("/api/channels", {
    name: "bench",
    type: "webhook",
    config: { url: `${targetUrl}/channel` },
  });
  const channelId = channel.id as string;
  const created = performance.now();
  const jobIds = new Map<string, string>(); // target path → job id
  let next = 0;
  await Promise.all(Array.from({ length: CREATE_PARALLEL }, async () => {
    while (next < n) {
      const path = `/m/${next++}`;
      const job = await api.post("/api/jobs", {
        name: `monitor ${path}`,
        url: `${targetUrl}${path}`,
        schedule: SCHEDULE,
        alerts: { channels: [{ channelId }] },
      });
      jobIds.set(path, job.id as string);
    }
  }));
  return { jobIds, createMs: performance.now() - created, channelId };
}

interface Window {
  /** Fire times in [start, end) are the window's. */
  start: number;
  end: number;
  /** When the server's CPU was read: checks arriving between count towards it. */
  cpuFrom: number;
  cpuTo: number;
}

/**
 * What the target saw: checks while the CPU was measured, |gap − interval| between checks of
 * one monitor answering fire times in the window, fire times with no check (lost) and with
 * more than one (doubled); and the window's fire times by job, for the stored runs.
 */
function fromArrivals(
  jobIds: Map<string, string>,
  arrivals: Record<string, number[]>,
  window: Window,
) {
  const schedules = new Map<string, Schedule>();
  const hits = new Map<string, number[]>();
  for (const [path, id] of jobIds) {
    schedules.set(id, parseSchedule(SCHEDULE, { key: id }));
    hits.set(id, arrivals[path] ?? []);
  }
  const inWindow = (slot: number) => slot >= window.start && slot < window.end;
  const slotOf = (id: string, at: number) => intervalSlotOf(schedules.get(id)!, at);
  let checks = 0;
  let lost = 0;
  const gaps: number[] = [];
  const lateness = new Map<number, number[]>();
  const expected = new Map<string, number[]>();
  for (const [id, times] of hits) {
    for (const at of times) if (at >= window.cpuFrom && at < window.cpuTo) checks++;
    const fires = nextFireTimes(schedules.get(id)!, window.start - 1, {
      limit: 100,
      beforeMs: window.end,
    });
    expected.set(id, fires);
    const answered = new Set(times.map((at) => slotOf(id, at)));
    lost += fires.filter((at) => !answered.has(at)).length;
    const within = times.filter((at) => inWindow(slotOf(id, at)));
    for (let i = 1; i < within.length; i++) {
      gaps.push(Math.abs(within[i] - within[i - 1] - INTERVAL_MS));
    }
    for (const at of within) {
      const slot = slotOf(id, at);
      const bucket = Math.floor(slot / LATENESS_BUCKET_MS) * LATENESS_BUCKET_MS;
      if (!lateness.has(bucket)) lateness.set(bucket, []);
      lateness.get(bucket)!.push(at - slot);
    }
  }
  // Where in the window checks came late (arrival − fire time), by 5 s of fire times: a stall
  // shows as a few seconds with every check late, a steady cost as lateness spread evenly.
  const latenessTimeline = [...lateness.entries()].sort((a, b) => a[0] - b[0]).map((
    [at, values],
  ) => ({ from: iso(at), p99: percentile(values, 99), max: maxOf(values) }));
  return {
    checks,
    gaps,
    lost,
    doubled: duplicateHits(hits, slotOf, inWindow),
    expected,
    unknownPaths: Object.keys(arrivals).filter((path) => !jobIds.has(path)).length,
    latenessTimeline,
    latenessP99: percentile([...lateness.values()].flat(), 99),
  };
}

/**
 * Gives every monitor a day of history in the running server's KV file, as one that has run a
 * day has it: its statistics (24 hourly buckets, through the server's own store) and a full ring
 * of latest results in its tally (its count and runs stay its own). Each is rewritten as a
 * monitor runs (the ring with every check, the statistics every minute), and a fresh monitor's
 * are a fraction of the size: the window should measure the monitors users run.
 */
async function seedDayOfHistory(kvPath: string, jobIds: string[]): Promise<void> {
  // The server's own opening: it retries a commit the server's writes locked out.
  const kv = await openKv(kvPath);
  try {
    const owners = await getMany(kv, jobIds.map((id) => kvKeys.jobOwner(id)));
    const jobs = jobIds.map((jobId, i) => ({ userId: owners[i].value as string, jobId }));
    const now = Date.now();
    const thisHour = Math.floor(now / 3_600_000);
    const buckets = BUCKETS_MS.length + 1;
    const day: JobStatsRecord = {
      hours: Array.from({ length: 24 }, (_, i) => ({
        h: thisHour - 24 + i,
        n: 180,
        ok: 180,
        latency: Array.from({ length: buckets }, (_, b) => (b === 0 ? 175 : b === 1 ? 5 : 0)),
        late: Array.from({ length: buckets }, (_, b) => (b === 0 ? 180 : 0)),
      })),
    };
    const earlier = Array.from({ length: RECENT_MAX }, (_, i) =>
      recentEntry({
        scheduledAt: new Date(now - (RECENT_MAX - i) * 20_000 - 60_000).toISOString(),
        durationMs: 1,
        status: "success",
      }));
    const store = new KvJobStatsStore(kv);
    for (let i = 0; i < jobs.length; i += 40) {
      const some = jobs.slice(i, i + 40);
      await store.merge(some, (current) => ({ hours: [...day.hours, ...(current?.hours ?? [])] }));
      for (const { userId, jobId } of some) await prependResults(kv, userId, jobId, earlier);
    }
  } finally {
    kv.close();
  }
}

/** Puts `earlier` before a job's latest results, on what the server wrote meanwhile. */
async function prependResults(kv: Deno.Kv, userId: string, jobId: string, earlier: Uint8Array[]) {
  const key = kvKeys.jobTally(userId, jobId);
  for (;;) {
    const entry = await kv.get<Uint8Array>(key);
    const tally = unpackTally(entry.value);
    const own: Uint8Array[] = [];
    for (let at = 0; at < tally.ring.length; at += RECENT_ENTRY_BYTES) {
      own.push(tally.ring.subarray(at, at + RECENT_ENTRY_BYTES));
    }
    const ring = appendRecent(null, [...earlier, ...own]);
    if ((await kv.atomic().check(entry).set(key, packTally({ ...tally, ring })).commit()).ok) {
      return;
    }
  }
}

/** The same from the run records in the stopped server's KV file. */
async function fromStoredRuns(kvPath: string, expected: Map<string, number[]>, window: Window) {
  const kv = await Deno.openKv(kvPath);
  try {
    const runs = (await listAllRuns(kv)).filter((r) => {
      const at = Date.parse(r.scheduledAt);
      return r.trigger === "AUTO" && at >= window.start && at < window.end;
    });
    const ran = new Set<string>();
    let failed = 0;
    for (const r of runs) {
      if (r.status === "failure") failed++;
      if (r.status !== "missed") ran.add(`${r.jobId}\u0000${Date.parse(r.scheduledAt)}`);
    }
    let lost = 0;
    for (const [id, fires] of expected) {
      lost += fires.filter((at) => !ran.has(`${id}\u0000${at}`)).length;
    }
    return { lost, doubled: duplicateRuns(runs), failed };
  } finally {
    kv.close();
  }
}

/** Writes the server's profile and prints where its time went, in µs a check. */
async function reportProfile(profile: Profile, checks: number, log: (m: string) => void) {
  await Deno.writeTextFile(PROFILE_FILE, JSON.stringify(profile));
  const rows = selfTimes(profile, Infinity).filter((row) => !row.name.startsWith("(idle)"));
  const busyMs = rows.reduce((sum, row) => sum + row.ms, 0);
  log(
    `server CPU profile: ${decodeURIComponent(PROFILE_FILE.pathname)}; most self time ` +
      `(main thread, idle left out; µs a check over ${checks} checks):`,
  );
  for (const row of rows.slice(0, 25)) {
    log(
      `  ${row.ms.toFixed(0).padStart(6)} ms ${(100 * row.ms / busyMs).toFixed(1).padStart(5)}% ` +
        `${(row.ms * 1000 / checks).toFixed(1).padStart(6)} µs  ${row.name}`,
    );
  }
}

/** The command line of `pid`, as `ps` shows it (read through `cat`: Deno would not). */
async function commandOf(pid: number): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/cmdline`], stderr: "null" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\0").filter(Boolean);
}

type ApiClient = ReturnType<typeof apiClient>;

/** JSON calls to the server's API with the root key; throws on anything but 2xx. */
function apiClient(base: string, key: string) {
  return {
    post: async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const json = await response.json();
      if (!response.ok) {
        throw new Error(`Cannot POST ${path}: ${response.status} ${JSON.stringify(json)}`);
      }
      return json.data;
    },
  };
}
