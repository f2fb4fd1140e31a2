/**
 * Starting the probe worker as `deno task worker` does, in a folder of its own: its settings
 * come from the environment or from the seed's `worker/.env`, and a bad one stops it at start
 * with exit code 2 and the variable's name instead of retrying forever.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, spawn, taskArgs } from "./subprocess.ts";
import { startFakeSupabaseGateway } from "./fakes/supabase_gateway.ts";
import { startTarget } from "./target_server.ts";

const KEY = "worker-start-test-key-0123456789";

async function folder(files: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return dir;
}

/** Runs the worker until it exits (a refused start) or 15 s pass. */
async function refusedStart(cwd: string, env: Record<string, string>) {
  await using child = spawn(await taskArgs("worker"), { cwd, env });
  const { code, timedOut } = await child.exit(15_000);
  assert.equal(timedOut, false, `the worker did not stop:\n${child.stdout.text}`);
  return { code, stderr: child.stderr.text };
}

Deno.test("the worker refuses a SUPABASE_URL without http:// or https:// at start", async () => {
  const { code, stderr } = await refusedStart(await folder(), {
    WORKER_ID: "aws-tyo1a",
    SUPABASE_URL: "localhost:8000",
    PINGMON_WORKER_API_KEY: KEY,
  });
  assert.equal(code, 2, stderr);
  assert.match(stderr, /SUPABASE_URL must be an http or https URL/);
});

Deno.test("the worker reads worker/.env, and the real environment wins over it", async () => {
  const hibiki = `http://127.0.0.1:${freePort()}`;
  const cwd = await folder({
    "worker/.env": `# the seed's worker settings\nWORKER_ID=aws-tyo1a\n` +
      `SUPABASE_URL=${hibiki}\nPINGMON_WORKER_API_KEY="${KEY}"\n`,
  });
  await using child = spawn(await taskArgs("worker"), { cwd, env: { WORKER_ID: "gcp-tyo1a" } });
  const started = await child.stdout.waitFor(/^\[.*\] Starting against .*$/m);
  assert.ok(started, `the worker did not start:\n${child.stderr.text}`);
  assert.equal(started[0], `[gcp-tyo1a] Starting against ${hibiki}/functions/v1`);
});

Deno.test("the worker reads ./.env when there is no worker/.env", async () => {
  const hibiki = `http://127.0.0.1:${freePort()}`;
  const cwd = await folder({
    ".env": `WORKER_ID=azure-tyo1\nSUPABASE_URL=${hibiki}\nPINGMON_WORKER_API_KEY=${KEY}\n`,
  });
  await using child = spawn(await taskArgs("worker"), { cwd });
  const started = await child.stdout.waitFor(/^\[.*\] Starting against .*$/m);
  assert.ok(started, `the worker did not start:\n${child.stderr.text}`);
  assert.equal(started[0], `[azure-tyo1] Starting against ${hibiki}/functions/v1`);
});

Deno.test("SUPABASE_ANON_KEY in worker/.env makes the worker a Supabase client, with the task's permissions", async () => {
  const functions = startTarget(() =>
    Response.json({ success: true, data: { worker_id: "aws-tyo1a", monitors: [] } })
  );
  await using gateway = await startFakeSupabaseGateway({
    functions: { "get-monitors-to-check": { url: `${functions.url}/get-monitors-to-check` } },
  });
  const cwd = await folder({
    "worker/.env": `WORKER_ID=aws-tyo1a\nSUPABASE_URL=${gateway.url}\n` +
      `PINGMON_WORKER_API_KEY=${KEY}\nSUPABASE_ANON_KEY=${gateway.anonKey}\n`,
  });
  await using child = spawn(await taskArgs("worker"), { cwd });
  const checking = await child.stdout.waitFor(/Checking \d+ monitors/);
  assert.ok(
    checking,
    `the worker did not get its monitors:\n${child.stdout.text}${child.stderr.text}`,
  );
  assert.match(
    child.stdout.text,
    /^\[aws-tyo1a\] Starting against .* as a Supabase client \(supabase-js, anon key\)$/m,
  );
  assert.equal(gateway.calls[0].headers.get("authorization"), `Bearer ${gateway.anonKey}`);
  assert.equal(functions.hits.length, 1);
  await functions.close();
});

Deno.test("a bad value in worker/.env stops the worker naming the variable and the file", async () => {
  const cwd = await folder({
    "worker/.env": `WORKER_ID=aws-tyo1a\nSUPABASE_URL=hibiki.example.com:8000\n` +
      `PINGMON_WORKER_API_KEY=short\n`,
  });
  const { code, stderr } = await refusedStart(cwd, {});
  assert.equal(code, 2, stderr);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /SUPABASE_URL must be an http or https URL \(in worker\/\.env\)/);
  assert.match(
    stderr,
    /PINGMON_WORKER_API_KEY must be at least 16 characters \(in worker\/\.env\)/,
  );
  assert.doesNotMatch(stderr, /short/, "a secret's value is never printed");
});

Deno.test("WORKER_ENV_FILE naming a missing file stops the worker", async () => {
  const { code, stderr } = await refusedStart(await folder(), { WORKER_ENV_FILE: "prod.env" });
  assert.equal(code, 2, stderr);
  assert.match(stderr, /WORKER_ENV_FILE/);
  assert.match(stderr, /prod\.env/);
});

Deno.test("WORKER_DATA_PATH outside ./data stops the worker with one line naming it", async () => {
  const { code, stderr } = await refusedStart(await folder(), {
    WORKER_ID: "aws-tyo1a",
    SUPABASE_URL: "https://hibiki.example.com",
    PINGMON_WORKER_API_KEY: KEY,
    WORKER_DATA_PATH: `${await Deno.makeTempDir()}/worker.kv`,
  });
  assert.equal(code, 2, stderr);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /WORKER_DATA_PATH=.* is outside the folders this process may write/);
});
