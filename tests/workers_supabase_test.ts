/**
 * The probe worker speaking Supabase (SUPABASE_ANON_KEY set): it calls the two functions through
 * supabase-js, past a stand-in of Supabase's gateway (tests/fakes/supabase_gateway.ts) that lets
 * only calls with the project's anon key through, and against Hibiki's own server, which takes
 * the same calls. Its outbox and retries are those of the plain HTTP worker: while the gateway is
 * down it keeps checking and keeps every result, and sends them once it is back.
 */
import assert from "node:assert/strict";
import { type Child, freePort, spawn } from "./subprocess.ts";
import { delay, startTarget } from "./target_server.ts";
import { mintAnonKey, startFakeSupabaseGateway } from "./fakes/supabase_gateway.ts";

const ROOT_KEY = "supabase-workers-root-key-0123456789";
const WORKER_KEY = "supabase-workers-worker-key-0123456789";
const FLAGS = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write"];

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await delay(100);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function startHibiki(dir: string): Promise<{ hibiki: Child; base: string }> {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const hibiki = spawn([...FLAGS, "main.ts"], {
    env: {
      PORT: String(port),
      HIBIKI_HOSTNAME: "127.0.0.1",
      HIBIKI_KV_PATH: `${dir}/hibiki.kv`,
      HIBIKI_API_KEY: ROOT_KEY,
      HIBIKI_MASTER_KEY: "2".repeat(64),
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
      PINGMON_WORKER_API_KEY: WORKER_KEY,
    },
  });
  await waitFor("the server", async () => (await fetch(`${base}/healthz`)).ok);
  return { hibiki, base };
}

function startWorker(dir: string, env: Record<string, string>): Child {
  return spawn([...FLAGS, "worker.ts"], {
    env: {
      PINGMON_WORKER_API_KEY: WORKER_KEY,
      WORKER_DATA_PATH: `${dir}/${env.WORKER_ID}.kv`,
      WORKER_REFRESH_SECONDS: "1",
      WORKER_FLUSH_SECONDS: "1",
      WORKER_RETRY_MAX_SECONDS: "1",
      HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
      ...env,
    },
  });
}

/** The two functions of Hibiki's server behind the gateway, with `verify_jwt` on. */
function hibikiFunctions(base: string) {
  return {
    "get-monitors-to-check": { url: `${base}/functions/v1/get-monitors-to-check` },
    "batch-save-results": { url: `${base}/functions/v1/batch-save-results` },
  };
}

Deno.test("a worker with SUPABASE_ANON_KEY checks through Supabase's gateway and loses nothing while it is down", async () => {
  const dir = await Deno.makeTempDir();
  const target = startTarget();
  const { hibiki, base } = await startHibiki(dir);
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${ROOT_KEY}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  for (const id of ["aws-tyo1a", "gcp-tyo1a"]) {
    assert.equal((await api("POST", "/api/workers", { id })).status, 201);
  }
  const created = await api("POST", "/api/jobs", {
    name: "alpha",
    url: `${target.url}/alpha`,
    schedule: "@every 2s",
    local: false,
    workers: [{ workerId: "aws-tyo1a" }, { workerId: "gcp-tyo1a" }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const jobId = created.body.data.id;
  const jwtSecret = "project-jwt-secret-0123456789-0123456789";
  let gateway = await startFakeSupabaseGateway({ functions: hibikiFunctions(base), jwtSecret });

  // aws-tyo1a goes through the gateway; gcp-tyo1a, with the same settings, to Hibiki itself.
  const viaGateway = startWorker(dir, {
    WORKER_ID: "aws-tyo1a",
    SUPABASE_URL: gateway.url,
    SUPABASE_ANON_KEY: gateway.anonKey,
  });
  const direct = startWorker(dir, {
    WORKER_ID: "gcp-tyo1a",
    SUPABASE_URL: base,
    SUPABASE_ANON_KEY: gateway.anonKey,
  });
  const hits = (workerId: string, since = 0) =>
    target.hits.filter((h) => h.userAgent?.includes(workerId) && h.at >= since).length;
  const runs = async (workerId: string) =>
    ((await api("GET", `/api/jobs/${jobId}/runs?limit=200`)).body.data as { where: string }[])
      .filter((r) => r.where === workerId).length;

  await waitFor(
    "runs from both workers",
    async () => (await runs("aws-tyo1a")) > 0 && (await runs("gcp-tyo1a")) > 0,
  );
  assert.match(
    viaGateway.stdout.text,
    new RegExp(
      `^\\[aws-tyo1a\\] Starting against ${gateway.url}/functions/v1 as a Supabase client ` +
        `\\(supabase-js, anon key\\)$`,
      "m",
    ),
  );
  assert.ok(!viaGateway.stdout.text.includes(gateway.anonKey), "the anon key is never logged");
  assert.ok(gateway.calls.length >= 2);
  for (const call of gateway.calls) {
    assert.equal(call.forwarded, true);
    assert.equal(call.status, 200);
    assert.equal(call.headers.get("authorization"), `Bearer ${gateway.anonKey}`);
    assert.equal(call.headers.get("apikey"), gateway.anonKey);
    assert.equal(call.headers.get("x-pingmon-api-key"), WORKER_KEY);
  }
  assert.deepEqual(
    new Set(gateway.calls.map((c) => c.name)),
    new Set(["get-monitors-to-check", "batch-save-results"]),
  );

  // The gateway goes away: the worker keeps checking, fails to send and backs off.
  await gateway.close();
  const downAt = Date.now();
  const logBefore = viaGateway.stdout.text.length;
  await waitFor("checks and failed sends while the gateway is down", () => {
    const log = viaGateway.stdout.text.slice(logBefore);
    return Promise.resolve(
      hits("aws-tyo1a", downAt) >= 2 &&
        /Cannot send results \(retrying in \d+ ms\): Cannot reach batch-save-results: /.test(log),
    );
  });

  // Back on the same port, the worker's own retries send every result it kept.
  gateway = await startFakeSupabaseGateway({
    functions: hibikiFunctions(base),
    jwtSecret,
    port: gateway.port,
  });
  const kept = hits("aws-tyo1a");
  await waitFor("the kept results", async () => (await runs("aws-tyo1a")) >= kept);
  for (const worker of [viaGateway, direct]) worker.process.kill("SIGTERM");
  for (const worker of [viaGateway, direct]) assert.equal((await worker.exit()).code, 0);
  for (const workerId of ["aws-tyo1a", "gcp-tyo1a"]) {
    await waitFor(
      `every check of ${workerId} as one run`,
      async () => (await runs(workerId)) === hits(workerId),
    );
  }

  await gateway.close();
  await hibiki[Symbol.asyncDispose]();
  await target.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Supabase's gateway turns away a worker without its project's anon key, which keeps trying", async () => {
  const dir = await Deno.makeTempDir();
  const jwtSecret = "project-jwt-secret-9876543210-9876543210";
  const functions = startTarget(() => Response.json({ success: true, data: { monitors: [] } }));
  await using gateway = await startFakeSupabaseGateway({
    jwtSecret,
    functions: {
      "get-monitors-to-check": { url: `${functions.url}/get-monitors-to-check` },
      "batch-save-results": { url: `${functions.url}/batch-save-results` },
    },
  });
  const refused = {
    "aws-tyo1a": { key: null, message: "Missing authorization header" },
    "gcp-tyo1a": {
      key: await mintAnonKey("another-projects-secret-0123456789"),
      message: "Invalid JWT",
    },
    "azure-tyo1": {
      key: await mintAnonKey(jwtSecret, Math.floor(Date.now() / 1000) - 60),
      message: "Invalid JWT",
    },
  };
  const workers = Object.entries(refused).map(([id, { key }]) =>
    startWorker(dir, {
      WORKER_ID: id,
      SUPABASE_URL: gateway.url,
      ...(key === null ? {} : { SUPABASE_ANON_KEY: key }),
    })
  );
  for (const [i, { message }] of Object.values(refused).entries()) {
    const line = new RegExp(
      `Cannot refresh monitors: get-monitors-to-check answered 401: ${message}\\n` +
        `(.|\\n)*Cannot refresh monitors: get-monitors-to-check answered 401: ${message}\\n`,
    );
    assert.ok(await workers[i].stdout.waitFor(line), workers[i].stdout.text);
  }
  for (const worker of workers) worker.process.kill("SIGTERM");
  for (const worker of workers) assert.equal((await worker.exit()).code, 0);
  assert.equal(functions.hits.length, 0, "nothing reached the functions");
  assert.ok(gateway.calls.every((c) => c.status === 401 && !c.forwarded));
  await functions.close();
  await Deno.remove(dir, { recursive: true });
});
