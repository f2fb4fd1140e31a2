/**
 * Hibiki benchmark: `deno task bench [--quick] [--only=<scenario>[,<scenario>]] [--repeat=N]
 * [--store=kv|postgres [--database-url=postgres://…]]`.
 *
 * `--store=postgres` runs the scenarios that support it over Postgres: on a throwaway cluster
 * the bench starts and stops (tests/postgres_cluster.ts), or on the server `--database-url`
 * names (a database per scenario is created there and dropped). DATABASE_URL is never used:
 * the bench creates and drops databases. Their figures are kept as `<scenario>:postgres`.
 *
 * Prints a table (scenario, metric, value, target, pass/fail) and merges the figures into
 * `bench/results.json` (one entry per scenario, with the machine it ran on). With
 * `--repeat=N` each scenario runs N times; the table shows the median of each metric and
 * results.json keeps every run. `--profile` also writes a CPU profile of each scenario's main
 * thread to `bench/<scenario>.cpuprofile` and prints where its time went (`monitors` also
 * profiles the Hibiki server it measures, in its own process).
 */
import { parseArgs } from "node:util";
import { selfTimeLines, startProfile } from "./profile.ts";
import { alerts } from "./alerts.ts";
import { burst } from "./burst.ts";
import { deliveries } from "./deliveries.ts";
import { edge } from "./edge.ts";
import { inbound } from "./inbound.ts";
import { instances } from "./instances.ts";
import { monitors } from "./monitors.ts";
import { pings } from "./pings.ts";
import { ui } from "./ui.ts";
import { status } from "./status.ts";
import { startup } from "./startup.ts";
import { steady } from "./steady.ts";
import { tickCost } from "./tick_cost.ts";
import { startCluster } from "../tests/postgres_cluster.ts";
import {
  formatNumber,
  machineInfo,
  median,
  type Metric,
  passes,
  printTable,
  type Scenario,
  type ScenarioResult,
  setBenchStore,
} from "./util.ts";

const SCENARIOS: Record<string, Scenario> = {
  steady,
  burst,
  tick_cost: tickCost,
  startup,
  deliveries,
  edge,
  inbound,
  pings,
  ui,
  alerts,
  status,
  instances,
  monitors,
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    repeat: { type: "string", default: "1" },
    profile: { type: "boolean", default: false },
    store: { type: "string", default: "kv" },
    "database-url": { type: "string" },
  },
});

/** Scenarios that run on Postgres too; the others still read or write Deno KV keys. */
const ON_POSTGRES = new Set(["steady", "burst", "deliveries", "edge", "ui", "instances"]);

const names = values.only ? values.only.split(",").map((s) => s.trim()) : Object.keys(SCENARIOS);
for (const name of names) {
  if (!SCENARIOS[name]) {
    console.error(
      `Unknown scenario "${name}": expected one of ${Object.keys(SCENARIOS).join(", ")}`,
    );
    Deno.exit(2);
  }
}
if (values.store !== "kv" && values.store !== "postgres") {
  console.error(`--store must be kv or postgres, not "${values.store}"`);
  Deno.exit(2);
}
const onPostgres = values.store === "postgres";
if (onPostgres) {
  const unsupported = names.filter((name) => !ON_POSTGRES.has(name));
  if (values.only && unsupported.length > 0) {
    console.error(
      `Cannot run ${unsupported.join(", ")} on Postgres yet: ` +
        `--store=postgres runs ${[...ON_POSTGRES].join(", ")}`,
    );
    Deno.exit(2);
  }
  names.splice(0, names.length, ...names.filter((name) => ON_POSTGRES.has(name)));
}
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  console.error(`--repeat must be a whole number ≥ 1`);
  Deno.exit(2);
}

let stopCluster = async () => {};
if (onPostgres) {
  let url = values["database-url"];
  if (!url) {
    const cluster = await startCluster();
    url = cluster.url;
    stopCluster = () => cluster.stop();
    globalThis.addEventListener("unload", () => cluster.stopSync());
    Deno.addSignalListener("SIGINT", () => Deno.exit(130));
    console.log(`Started a throwaway Postgres cluster for the bench`);
  }
  setBenchStore({ kind: "postgres", url });
}

const RESULTS = new URL("./results.json", import.meta.url);
const machine = machineInfo();
const git = machine.git as { commit: string | null; dirty: string[] };
console.log(
  `Hibiki bench: deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
    `commit ${git.commit}${
      git.dirty.length ? ` + ${git.dirty.length} uncommitted lib changes` : ""
    }, ` +
    `${values.quick ? "QUICK" : "full"} run of ${names.join(", ")}` +
    (onPostgres ? " on Postgres" : "") +
    (repeat > 1 ? ` ×${repeat}` : ""),
);

const rows: { scenario: string; metric: Metric; note?: string }[] = [];
const entries: Record<string, unknown> = {};

for (const name of names) {
  const runs: ScenarioResult[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    const label = repeat > 1 ? `${name} #${i + 1}` : name;
    console.log(`\n== ${label}`);
    const stopProfile = values.profile ? await startProfile() : null;
    const result = await SCENARIOS[name]({
      quick: values.quick,
      profile: values.profile,
      log: (m) => console.log(`[${label} ${new Date().toISOString().slice(11, 23)}] ${m}`),
    });
    console.log(`== ${label} done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    if (stopProfile) {
      const profile = await stopProfile();
      const file = new URL(`./${name}.cpuprofile`, import.meta.url);
      await Deno.writeTextFile(file, JSON.stringify(profile));
      console.log(`CPU profile: ${decodeURIComponent(file.pathname)}; most self time:`);
      for (const line of selfTimeLines(profile)) console.log(line);
    }
    runs.push(result);
  }
  const combined = combine(runs);
  for (const m of combined) {
    const all = runs.map((r) => r.metrics.find((x) => x.metric === m.metric)?.value ?? null);
    rows.push({
      scenario: name,
      metric: m,
      note: repeat > 1 ? `median of [${all.map(formatNumber).join(", ")}]` : undefined,
    });
  }
  entries[onPostgres ? `${name}:postgres` : name] = {
    store: values.store,
    date: new Date().toISOString(),
    quick: values.quick,
    repeat,
    machine,
    metrics: combined.map((m) => ({ ...m, pass: passes(m) })),
    runs: runs.map((r) => ({ metrics: r.metrics, details: r.details })),
  };
}

console.log("");
printTable(rows);

let previous: { scenarios?: Record<string, unknown> } = {};
try {
  previous = JSON.parse(await Deno.readTextFile(RESULTS));
} catch {
  // first run
}
const output = {
  machine,
  scenarios: { ...(previous.scenarios ?? {}), ...entries },
};
await Deno.writeTextFile(RESULTS, JSON.stringify(output, null, 2) + "\n");
console.log(`\nWrote ${decodeURIComponent(RESULTS.pathname)}`);

await stopCluster();

const failed = rows.filter((r) => passes(r.metric) === false).length;
if (failed > 0) console.log(`${failed} target(s) missed`);

/** Per metric: the median over runs (the only value when run once). */
function combine(runs: ScenarioResult[]): Metric[] {
  return runs[0].metrics.map((m) => {
    const values = runs
      .map((r) => r.metrics.find((x) => x.metric === m.metric)?.value)
      .filter((v): v is number => typeof v === "number" && !Number.isNaN(v));
    return { ...m, value: median(values) };
  });
}
