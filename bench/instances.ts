/**
 * instances: the burst (5,000 jobs `* * * * *` firing at one minute boundary) served by one,
 * then by two Hibiki processes (`main.ts` as `deno task start` runs it) sharing one store: a
 * database on Postgres (`--store=postgres`), a KV file otherwise. Each pass has a fresh
 * store. Measures boundary → last run started and runs/s of one and of two, and with two:
 * no fire run twice (target hits and run records) and none lost.
 */
import { childEnv, freePort, spawn, startArgs, terminate, untilHealthy } from "./startup.ts";
import {
  type BenchEnv,
  createJobs,
  duplicateHits,
  duplicateRuns,
  iso,
  makeJob,
  maxOf,
  type Metric,
  openEnv,
  percentile,
  type Scenario,
  sleep,
  sleepUntil,
  startTarget,
} from "./util.ts";

const JOBS = 5_000;
const SCHEDULE = "* * * * *";
/** The processes start this long before the boundary (their first tick claims it). */
const START_BEFORE_MS = 15_000;
const WAIT_AFTER_MS = 30_000;

interface Pass {
  processes: number;
  toLastStartMs: number | null;
  runsPerSecond: number | null;
  latenessP99: number | null;
  recorded: number;
  duplicateHits: number;
  duplicateRuns: number;
  /** Runs each process started, by the order they were spawned (from the target's view). */
  details: Record<string, unknown>;
}

export const instances: Scenario = async ({ log }) => {
  const one = await burstWith(1, (m) => log(`1 process: ${m}`));
  const two = await burstWith(2, (m) => log(`2 processes: ${m}`));
  const metrics: Metric[] = [];
  for (const pass of [one, two]) {
    const of = pass.processes === 1 ? "one process" : "two processes";
    metrics.push(
      {
        metric: `${of}: boundary → last run started`,
        value: pass.toLastStartMs,
        unit: "ms",
        target: { op: "<=", value: 3000 },
      },
      { metric: `${of}: runs/s (started)`, value: pass.runsPerSecond, unit: "/s" },
      { metric: `${of}: lateness p99`, value: pass.latenessP99, unit: "ms" },
      {
        metric: `${of}: lost fires`,
        value: JOBS - pass.recorded,
        unit: "",
        target: { op: "==", value: 0 },
      },
      {
        metric: `${of}: duplicate hits (job+fire)`,
        value: pass.duplicateHits,
        unit: "",
        target: { op: "==", value: 0 },
      },
      {
        metric: `${of}: duplicate run records`,
        value: pass.duplicateRuns,
        unit: "",
        target: { op: "==", value: 0 },
      },
    );
  }
  metrics.push({
    metric: "runs/s, two against one",
    value: one.runsPerSecond && two.runsPerSecond ? two.runsPerSecond / one.runsPerSecond : null,
    unit: "×",
  });
  return { metrics, details: { jobs: JOBS, one: one.details, two: two.details } };
};

async function burstWith(processes: number, log: (m: string) => void): Promise<Pass> {
  const target = await startTarget();
  const dir = await Deno.makeTempDir({ prefix: `hibiki-bench-instances-${processes}-` });
  const env = await openEnv(`instances${processes}`, { dir });
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const fireAt = Math.ceil((Date.now() + JOBS / 1.5 + START_BEFORE_MS + 5_000) / 60_000) *
      60_000;
    const jobs = Array.from({ length: JOBS }, () => {
      const id = crypto.randomUUID();
      return { job: makeJob(id, SCHEDULE, target.url(id)), firstFireAt: fireAt };
    });
    const createMs = await createJobs(env.stores.records, jobs);
    log(`created ${JOBS} jobs in ${createMs.toFixed(0)} ms; fire at ${iso(fireAt)}`);

    await sleepUntil(fireAt - START_BEFORE_MS);
    const healthyMs: number[] = [];
    const ports: number[] = [];
    await Promise.all(Array.from({ length: processes }, async () => {
      const port = freePort();
      ports.push(port);
      const child = spawn(startArgs(dir), childEnv(processEnv(env, port)));
      children.push(child);
      healthyMs.push(await untilHealthy(child, `http://127.0.0.1:${port}/healthz`));
    }));
    log(`spawn → /healthz 200: ${healthyMs.map((x) => x.toFixed(0)).join(", ")} ms`);

    const deadline = fireAt + WAIT_AFTER_MS;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = await env.countRuns();
      if (stored >= JOBS) break;
      await sleep(250);
    }
    log(`${stored} runs stored ${Date.now() - fireAt} ms after the boundary`);
    // How the fire split between the processes: the runs each finished, from its /metrics.
    const runsByProcess = await Promise.all(ports.map(finishedRuns));
    log(`runs finished by each process: ${runsByProcess.join(", ")}`);
    await Promise.all(children.map((child) => terminate(child)));

    const runs = (await env.allRuns()).filter((r) => Date.parse(r.scheduledAt) === fireAt);
    const started = runs.filter((r) => r.startedAt !== null).map((r) => Date.parse(r.startedAt!));
    const lateness = runs.filter((r) => r.lateMs !== null).map((r) => r.lateMs!);
    const lastStart = maxOf(started);
    const toLastStartMs = lastStart === null ? null : lastStart - fireAt;
    const recorded = new Set(runs.filter((r) => r.status !== "missed").map((r) => r.jobId)).size;
    const dupHits = duplicateHits(
      await target.hits(),
      (_, arrival) => Math.floor(arrival / 60_000) * 60_000,
      (slot) => slot === fireAt,
    );
    const pass: Pass = {
      processes,
      toLastStartMs,
      runsPerSecond: toLastStartMs ? runs.length / (toLastStartMs / 1000) : null,
      latenessP99: percentile(lateness, 99),
      recorded,
      duplicateHits: dupHits.duplicates,
      duplicateRuns: duplicateRuns(runs),
      details: {
        fireAt: iso(fireAt),
        createMs,
        healthyMs,
        runsByProcess,
        runs: runs.length,
        failed: runs.filter((r) => r.status !== "success").length,
        duplicateHitExamples: dupHits.examples,
      },
    };
    log(
      `last start ${toLastStartMs} ms after the boundary, ${recorded} of ${JOBS} recorded, ` +
        `${pass.duplicateHits} duplicate hits, ${pass.duplicateRuns} duplicate runs`,
    );
    return pass;
  } finally {
    await Promise.all(children.map((child) => terminate(child).catch(() => {})));
    await env.close();
    await target.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs a process finished (`hibiki_runs_total`, every outcome). */
async function finishedRuns(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  let total = 0;
  for (const m of text.matchAll(/^hibiki_runs_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

/** A process over the environment's store, with the key the bench sealed set-up under. */
function processEnv(env: BenchEnv, port: number): Record<string, string> {
  return {
    PORT: String(port),
    HIBIKI_HOSTNAME: "127.0.0.1",
    HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
    HIBIKI_MAX_CONCURRENCY: "5000",
    HIBIKI_MASTER_KEY: btoa(String.fromCharCode(...env.masterKey)),
    ...(env.databaseUrl ? { DATABASE_URL: env.databaseUrl } : { HIBIKI_KV_PATH: env.kvPath }),
  };
}
