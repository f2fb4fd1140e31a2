/**
 * Probe worker entry (remote region): `deno task worker`, configured by the seed's `.env`
 * (`worker/.env`, see lib/worker/env_file.ts) or the environment: WORKER_ID, SUPABASE_URL
 * (Hibiki's or a Supabase project's URL), PINGMON_WORKER_API_KEY, and SUPABASE_ANON_KEY to
 * call a Supabase project as its clients do (supabase-js).
 */
import { dirname } from "node:path";
import { EdgeClient, httpCall } from "./lib/worker/edge_client.ts";
import { supabaseCall } from "./lib/worker/supabase_call.ts";
import { ProbeWorker } from "./lib/worker/probe_worker.ts";
import { ResultOutbox } from "./lib/worker/result_outbox.ts";
import { loadWorkerEnv } from "./lib/worker/env_file.ts";
import { parseWorkerConfig, WorkerConfigError } from "./lib/worker/worker_config.ts";
import { dataPathProblem } from "./lib/data_path_access.ts";

let config;
let envFile;
try {
  const loaded = await loadWorkerEnv(Deno.env.toObject());
  envFile = loaded.file;
  config = parseWorkerConfig(loaded.env, loaded);
  const problem = dataPathProblem("WORKER_DATA_PATH", config.dataPath);
  if (problem) throw new WorkerConfigError(`Cannot start the worker: ${problem}`);
} catch (error) {
  if (error instanceof WorkerConfigError) {
    console.error(error.message);
    Deno.exit(2);
  }
  throw error;
}

await Deno.mkdir(dirname(config.dataPath), { recursive: true });
const kv = await Deno.openKv(config.dataPath);
const outbox = new ResultOutbox(kv);
const worker = new ProbeWorker({
  config,
  client: new EdgeClient({
    workerId: config.workerId,
    call: config.anonKey
      ? supabaseCall({
        supabaseUrl: config.supabaseUrl,
        anonKey: config.anonKey,
        apiKey: config.apiKey,
      })
      : httpCall({ functionsUrl: config.functionsUrl, apiKey: config.apiKey }),
  }),
  outbox,
});
if (envFile) console.log(`[${config.workerId}] Settings read from ${envFile}`);
const waiting = await outbox.size();
console.log(
  `[${config.workerId}] Starting against ${config.functionsUrl}` +
    (config.anonKey ? " as a Supabase client (supabase-js, anon key)" : "") +
    (waiting > 0 ? ` with ${waiting} unsent results` : ""),
);
await worker.start();

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(`[${config.workerId}] Received ${signal}: sending what is left, then stopping`);
    await worker.stop();
    kv.close();
    Deno.exit(0);
  });
}
