/**
 * A new user's first minutes: `/` leads to the admin pages, the start log says where they are
 * and how to sign in, and a KV path the start task may not write is one clear line, not a
 * stack trace.
 */
import assert from "node:assert/strict";
import { TestSystem } from "./helpers.ts";
import { freePort, REPO, spawn, taskArgs } from "./subprocess.ts";

const PASSWORD = "first-steps-password-0123";

Deno.test("GET / leads to the admin pages", async () => {
  await using s = await TestSystem.start();
  const response = await s.system.app.request("/");
  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), "/admin");
});

Deno.test("a job on this machine is refused with the variable to set and the restart it needs", async () => {
  await using s = await TestSystem.start();
  const answer = await s.call<unknown>("POST", "/api/jobs", {
    body: { name: "Self", url: "http://localhost:8000/healthz", schedule: "* * * * *" },
  });
  assert.equal(answer.status, 400);
  assert.match(answer.body.error.message, /HIBIKI_ALLOW_PRIVATE_NETWORKS=1 and restart Hibiki/);
});

/** The JSON body (`-d '…'`) of the README's first `curl … -X POST …<path>` example. */
async function readmeBody(path: string): Promise<unknown> {
  const readme = await Deno.readTextFile(`${REPO}README.md`);
  const start = readme.search(new RegExp(`-X POST (http://)?localhost:8000${path} `));
  assert.ok(start >= 0, `no POST ${path} example in README.md`);
  const body = readme.slice(start).match(/-d '([^']*)'/);
  assert.ok(body, `no body in the README's POST ${path} example`);
  return JSON.parse(body[1]);
}

Deno.test("the README's first job and inbound hook are accepted as written", async () => {
  await using s = await TestSystem.start({ env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" } });
  for (const path of ["/api/jobs", "/api/hooks"]) {
    const answer = await s.call<unknown>("POST", path, { body: await readmeBody(path) });
    assert.equal(answer.status, 201, `${path}: ${JSON.stringify(answer.body)}`);
  }
});

async function startLog(env: Record<string, string>): Promise<{ port: number; log: string }> {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  await using child = spawn(
    ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "main.ts"],
    {
      env: {
        PORT: String(port),
        HIBIKI_HOSTNAME: "127.0.0.1",
        HIBIKI_KV_PATH: `${dir}/hibiki.kv`,
        HIBIKI_MASTER_KEY: "2".repeat(64),
        ...env,
      },
    },
  );
  const line = await child.stdout.waitFor(/^Admin pages: .*$/m);
  assert.ok(line, `no admin line in the start log:\n${child.stdout.text}${child.stderr.text}`);
  return { port, log: child.stdout.text + child.stderr.text };
}

Deno.test("the start log names the admin pages, the user and where the password comes from", async () => {
  const { port, log } = await startLog({ HIBIKI_ADMIN_PASSWORD: PASSWORD });
  const line = log.match(/^Admin pages: .*$/m)![0];
  assert.match(line, new RegExp(`http://127\\.0\\.0\\.1:${port}/admin`));
  assert.match(line, /"default"/);
  assert.match(line, /HIBIKI_ADMIN_PASSWORD/);
  assert.doesNotMatch(log, new RegExp(PASSWORD), "the password must never be logged");
});

Deno.test("without an admin password the start log says how to set one", async () => {
  const { log } = await startLog({});
  const line = log.match(/^Admin pages: .*$/m)![0];
  assert.match(line, /no password yet/);
  assert.match(line, /HIBIKI_ADMIN_PASSWORD/);
  assert.match(line, /"default"/);
});

Deno.test("deno task start with HIBIKI_KV_PATH outside ./data stops with one line naming the variable", async () => {
  const dir = await Deno.makeTempDir();
  await using child = spawn(await taskArgs("start"), {
    env: { PORT: String(freePort()), HIBIKI_KV_PATH: `${dir}/hibiki.kv` },
  });
  const { code, timedOut } = await child.exit(30_000);
  assert.equal(timedOut, false, "Hibiki started instead of stopping");
  const lines = child.stderr.text.trim().split("\n");
  assert.equal(code, 2, child.stderr.text);
  assert.equal(lines.length, 1, child.stderr.text);
  assert.match(lines[0], /HIBIKI_KV_PATH/);
  assert.match(lines[0], /\.\/data/);
  assert.match(lines[0], /--allow-write/);
  assert.doesNotMatch(child.stderr.text, /NotCapable|\n\s+at /);
});

Deno.test("deno task key:create with HIBIKI_KV_PATH outside ./data names the variable", async () => {
  const dir = await Deno.makeTempDir();
  await using child = spawn([...await taskArgs("key:create"), "--scopes", "all"], {
    env: { HIBIKI_KV_PATH: `${dir}/hibiki.kv` },
  });
  const { code } = await child.exit(30_000);
  assert.equal(code, 2, child.stderr.text);
  assert.match(child.stderr.text, /^Cannot create API key: HIBIKI_KV_PATH=.* is outside/);
  assert.doesNotMatch(child.stderr.text, /NotCapable|\n\s+at /);
});
