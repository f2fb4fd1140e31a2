/**
 * A public status page under a crowd: with 10,000 jobs stored, a page of 100 jobs (in 5
 * groups, each job with about 9 incidents over 90 days, one of them open) answers within
 * 20 ms at p95 while 32 clients ask for it at once for 20 s: the HTML in English and
 * Japanese (gzipped), its JSON and its badges. The run is longer than the page's 15 s cache,
 * so it includes a rebuild; the first, cold build (90 days of incidents read per job) is
 * reported on its own.
 */
import { parseConfig } from "../lib/config.ts";
import type { Incident, JobAlertState } from "../lib/alerts/types.ts";
import { createKvStores, kvStores } from "../lib/store/kv/mod.ts";
import type { Job } from "../lib/store/types.ts";
import { createSystem } from "../system.ts";
import { createJobs, type Metric, percentile, type Scenario } from "./util.ts";

const USER = "u-status";
const PAGE_JOBS = 100;
const CLIENTS = 32;
const DAY = 86_400_000;

export const status: Scenario = async ({ quick, log }) => {
  const jobCount = quick ? 1_000 : 10_000;
  const seconds = quick ? 5 : 20;
  const dir = await Deno.makeTempDir({ prefix: "hibiki-bench-status-" });
  const kv = await Deno.openKv(`${dir}/hibiki.kv`);
  const system = createSystem(
    kvStores(kv),
    parseConfig({ HIBIKI_KV_PATH: `${dir}/hibiki.kv` }),
    { queueWakeups: false },
  );
  const stores = createKvStores(kv);
  try {
    const now = Date.now();
    log(`seeding ${jobCount} jobs, ${PAGE_JOBS} of them on a page with 90 days of incidents`);
    const jobs = Array.from({ length: jobCount }, (_, i) => seedJob(i, now));
    await createJobs(stores.records, jobs.map((job) => ({ job, firstFireAt: null })));
    const shown = jobs.slice(0, PAGE_JOBS);
    let incidents = 0;
    for (const [i, job] of shown.entries()) incidents += await seedIncidents(stores, job, i, now);
    const stamp = new Date(now).toISOString();
    await stores.statusPages.create({
      id: "sp_bench",
      userId: USER,
      slug: "bench",
      title: "Bench status",
      description: "100 jobs in 5 groups",
      groups: Array.from({ length: 5 }, (_, g) => ({
        name: `Group ${g + 1}`,
        jobIds: shown.slice(g * 20, g * 20 + 20).map((j) => j.id),
      })),
      createdAt: stamp,
      updatedAt: stamp,
    });

    const request = async (path: string, headers: Record<string, string> = {}) => {
      const started = performance.now();
      const response = await system.app.request(`http://bench.local${path}`, { headers });
      const body = await response.arrayBuffer();
      const ms = performance.now() - started;
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      return { ms, bytes: body.byteLength };
    };
    const cold = await request("/status/bench");
    log(`cold build and render: ${cold.ms.toFixed(1)} ms`);
    const plain = await request("/status/bench");
    const gz = await request("/status/bench", { "accept-encoding": "gzip" });

    const single: number[] = [];
    for (let i = 0; i < 500; i++) {
      single.push((await request("/status/bench", { "accept-encoding": "gzip" })).ms);
    }
    log(
      `one client: p50 ${percentile(single, 50)!.toFixed(2)} ms, p95 ${
        percentile(single, 95)!.toFixed(2)
      } ms`,
    );
    const kinds = [
      ["html", "/status/bench", { "accept-encoding": "gzip", "accept-language": "en" }],
      ["html_ja", "/status/bench", { "accept-encoding": "gzip", "accept-language": "ja" }],
      ["json", "/status/bench.json", { "accept-encoding": "gzip" }],
      ["badge", "/status/bench/badge.svg", {}],
      ["job_badge", `/status/bench/badge/${shown[7].id}.svg?type=uptime`, {}],
    ] as const;
    const times: Record<string, number[]> = Object.fromEntries(kinds.map(([k]) => [k, []]));
    const all: number[] = [];
    const until = performance.now() + seconds * 1000;
    let n = 0;
    const client = async () => {
      while (performance.now() < until) {
        const [kind, path, headers] = kinds[n++ % kinds.length];
        const { ms } = await request(path, headers);
        times[kind].push(ms);
        all.push(ms);
      }
    };
    log(`${CLIENTS} clients for ${seconds} s`);
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const p95 = percentile(all, 95)!;
    const rate = all.length / seconds;
    log(`${all.length} requests (${rate.toFixed(0)}/s), p95 ${p95.toFixed(1)} ms`);
    const metric = (name: string, value: number, unit: string, target?: number) =>
      ({
        metric: name,
        value,
        unit,
        ...(target === undefined ? {} : { target: { op: "<=" as const, value: target } }),
      }) satisfies Metric;
    return {
      metrics: [
        metric(`status page p95, ${CLIENTS} clients`, p95, "ms", 20),
        metric("status page HTML p95", percentile(times.html, 95)!, "ms", 20),
        metric("status page p99", percentile(all, 99)!, "ms"),
        metric("status page p95, one client", percentile(single, 95)!, "ms", 20),
        metric("status page cold build", cold.ms, "ms"),
        metric("status page requests", rate, "/s"),
        metric("status page HTML", plain.bytes / 1024, "KB"),
        metric("status page HTML gzipped", gz.bytes / 1024, "KB"),
      ],
      details: {
        jobs: jobCount,
        pageJobs: PAGE_JOBS,
        incidents,
        clients: CLIENTS,
        seconds,
        requests: all.length,
        p95ByKind: Object.fromEntries(
          Object.entries(times).map(([k, v]) => [k, percentile(v, 95)]),
        ),
      },
    };
  } finally {
    await system.stop();
    kv.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
};

function seedJob(i: number, now: number): Job {
  const stamp = new Date(now - 100 * DAY).toISOString();
  return {
    id: crypto.randomUUID(),
    userId: USER,
    name: `Service ${i} health`,
    url: `https://service-${i}.example.com/health`,
    method: "GET",
    headers: null,
    body: null,
    schedule: "*/5 * * * *",
    timezone: "UTC",
    enabled: true,
    timeoutMs: 30_000,
    expect: null,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

/** About one incident every 10 days, 5 to 95 minutes long; job 0 has one still open. */
async function seedIncidents(
  stores: ReturnType<typeof createKvStores>,
  job: Job,
  index: number,
  now: number,
): Promise<number> {
  let written = 0;
  const starts = Array.from({ length: 9 }, (_, k) => now - (88 - k * 10) * DAY + index * 60_000);
  for (const [k, start] of starts.entries()) {
    const open = index === 0 && k === starts.length - 1;
    const end = start + (5 + ((index + k) % 10) * 10) * 60_000;
    const id = `inc_${start.toString(16).padStart(12, "0")}${index.toString(16).padStart(16, "0")}`;
    const incident: Incident = {
      id,
      userId: USER,
      jobId: job.id,
      state: open ? "open" : "resolved",
      kind: "down",
      startedAt: new Date(start).toISOString(),
      endedAt: open ? null : new Date(end).toISOString(),
      durationMs: open ? null : end - start,
      cause: "Expected status 2xx, got 503",
      runIds: [],
      locations: ["local"],
      acknowledgedAt: null,
      acknowledgedBy: null,
      updates: k % 3 === 0
        ? [{ at: new Date(end).toISOString(), message: "Resolved by a restart" }]
        : [],
      notificationIds: [],
    };
    const current = await stores.alerts.getState(USER, job.id);
    const next: JobAlertState = {
      userId: USER,
      jobId: job.id,
      state: open ? "down" : "up",
      failures: 0,
      successes: 1,
      incidentId: open ? id : null,
      decidedThrough: now - 60_000,
      since: open ? start : end,
      streakSince: open ? start : end,
      verdict: open ? "fail" : "pass",
    };
    await stores.alerts.decide({
      current,
      next,
      settle: [],
      incident: { next: incident, current: null },
    });
    written++;
  }
  return written;
}
