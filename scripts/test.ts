/**
 * `deno task test`: the test suite with a throwaway Postgres for the Postgres store's tests.
 * Unless HIBIKI_TEST_DATABASE_URL names a server already, it starts one cluster
 * (tests/postgres_cluster.ts) for the whole run, hands its URL to every test file, and stops
 * it when the tests end, however they end. Without Postgres installed the tests still run, and
 * those that need it fail saying how to get it. Arguments go to `deno test` (files, filters).
 */
import { HOW_TO_GET_POSTGRES, postgresBin, startCluster } from "../tests/postgres_cluster.ts";

/** The permissions the tests run with. */
const TEST_FLAGS = [
  "--parallel",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys=hostname,loadavg,osRelease,uid",
];

const env: Record<string, string> = {};
// One test file more than there are CPUs: many files spend their time waiting on child
// processes, Chromium and timers, and on 2 cores 3 at once take the suite from ~90 s to ~65 s.
if (!Deno.env.get("DENO_JOBS")) env.DENO_JOBS = String(navigator.hardwareConcurrency + 1);
let stop = async () => {};
if (!Deno.env.get("HIBIKI_TEST_DATABASE_URL")) {
  if (await postgresBin()) {
    const cluster = await startCluster();
    env.HIBIKI_TEST_DATABASE_URL = cluster.url;
    stop = () => cluster.stop();
  } else {
    console.error(`\n*** ${HOW_TO_GET_POSTGRES}. The Postgres store's tests will fail. ***\n`);
  }
}

let code = 1;
try {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...TEST_FLAGS, ...Deno.args],
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // Ctrl-C reaches the tests too (same process group); stop the cluster once they are gone.
  Deno.addSignalListener("SIGINT", () => {});
  code = (await child.status).code;
} finally {
  await stop();
}
Deno.exit(code);
