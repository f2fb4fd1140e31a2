/**
 * Request bodies over a real connection: the app served on 127.0.0.1, a raw TCP client. A
 * body without Content-Length that never ends is read only up to the route's limit, the
 * answer is sent, and the connection is closed; and a client that hangs up mid-body is not
 * logged as a server error.
 */
import assert from "node:assert/strict";
import { expectStatus, ROOT_KEY, TestSystem } from "./helpers.ts";

const WORKER_KEY = "request-body-worker-key-0123456789";
const KIB = 1024;
const MIB = 1024 * KIB;
/** What the kernel buffers on both ends of a loopback connection, with room to spare. */
const SOCKET_BUFFERS = 16 * MIB;
/** The client gives up here: an open connection after this long is the failure. */
const DEADLINE_MS = 10_000;

interface Served {
  t: TestSystem;
  port: number;
  hookId: string;
  /** Resolves each time the app has answered a request. */
  answered: () => Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function serve(): Promise<Served> {
  const t = await TestSystem.start({
    env: { PINGMON_WORKER_API_KEY: WORKER_KEY, HIBIKI_ADMIN_PASSWORD: "a-long-admin-password" },
  });
  const hook = await t.call<{ id: string }>("POST", "/api/hooks", {
    body: { name: "small", verification: { mode: "none" }, maxBodyBytes: 64 * KIB },
  });
  expectStatus(hook, 201);
  let next = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request, info) => {
      const response = await t.system.app.fetch(request, info);
      next.resolve();
      return response;
    },
  );
  return {
    t,
    port: server.addr.port,
    hookId: hook.body.data.id,
    answered: () => {
      const answered = next.promise;
      return answered.then(() => {
        next = Promise.withResolvers<void>();
      });
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

interface Outcome {
  /** The answer's status line, as far as the client read it. */
  status: string;
  /** Body bytes written before the connection refused more. */
  sent: number;
  closed: boolean;
}

/** POSTs a chunked body that never ends, until the server closes the connection. */
async function sendEndless(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const encoder = new TextEncoder();
  await conn.write(
    encoder.encode(
      `POST ${path} HTTP/1.1\r\nHost: hibiki.test\r\n${lines}` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    ),
  );
  let answer = "";
  const reading = (async () => {
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return;
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
  })();
  const chunk = encoder.encode(`10000\r\n${" ".repeat(64 * KIB)}\r\n`);
  let sent = 0;
  let closed = false;
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, DEADLINE_MS);
  try {
    while (!timedOut && sent < 200 * MIB) {
      for (let at = 0; at < chunk.length;) at += await conn.write(chunk.subarray(at));
      sent += 64 * KIB;
    }
  } catch {
    closed = !timedOut;
  }
  clearTimeout(deadline);
  if (!timedOut) conn.close();
  await reading;
  return { status: answer.split("\r\n")[0], sent, closed };
}

Deno.test("An endless chunked body is cut off at the route's limit and its connection closed", async () => {
  await using s = await serve();
  const cases: { path: string; headers: Record<string, string>; status: number; limit: number }[] =
    [
      { path: `/hooks/${s.hookId}`, headers: {}, status: 413, limit: 64 * KIB },
      { path: "/hooks/hook_unknown", headers: {}, status: 404, limit: 0 },
      {
        // Seed 002 answers a body it cannot read as a missing list: 400.
        path: "/functions/v1/batch-save-results",
        headers: { "X-Pingmon-API-Key": WORKER_KEY },
        status: 400,
        limit: 8 * MIB,
      },
      { path: "/functions/v1/get-monitors-to-check", headers: {}, status: 401, limit: 0 },
      {
        path: "/api/jobs",
        headers: { Authorization: `Bearer ${ROOT_KEY}` },
        status: 413,
        limit: 256 * KIB,
      },
      { path: "/admin/login", headers: {}, status: 413, limit: 256 * KIB },
    ];
  for (const { path, headers, status, limit } of cases) {
    const outcome = await sendEndless(s.port, path, headers);
    const what = `POST ${path}: ${JSON.stringify(outcome)}`;
    assert.match(outcome.status, new RegExp(`^HTTP/1.1 ${status} `), what);
    assert.ok(outcome.closed, `the connection stayed open: ${what}`);
    assert.ok(outcome.sent <= limit + SOCKET_BUFFERS, `the server read on: ${what}`);
  }
});

Deno.test("A client that hangs up in the middle of its body is not logged as an error", async () => {
  await using s = await serve();
  const errors: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => errors.push(args.map(String).join(" "));
  try {
    for (
      const [path, headers] of [
        [`/hooks/${s.hookId}`, ""],
        ["/api/jobs", `Authorization: Bearer ${ROOT_KEY}\r\n`],
        ["/functions/v1/batch-save-results", `X-Pingmon-API-Key: ${WORKER_KEY}\r\n`],
        ["/admin/login", ""],
      ]
    ) {
      for (const framing of ["Content-Length: 100000", "Transfer-Encoding: chunked"]) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
        const first = framing.startsWith("Content") ? '{"name":' : '8\r\n{"name":\r\n';
        await conn.write(
          new TextEncoder().encode(
            `POST ${path} HTTP/1.1\r\nHost: hibiki.test\r\n${headers}${framing}\r\n` +
              `Content-Type: application/json\r\n\r\n${first}`,
          ),
        );
        const answered = s.answered();
        conn.close();
        await answered;
      }
    }
  } finally {
    console.error = error;
  }
  assert.deepEqual(errors, []);
});

Deno.test("A body read to its end leaves the connection open for the next request", async () => {
  await using s = await serve();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const request = `POST /hooks/${s.hookId} HTTP/1.1\r\nHost: hibiki.test\r\n` +
    `Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
  const statuses = [];
  for (let i = 0; i < 2; i++) {
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    statuses.push(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0]);
  }
  conn.close();
  assert.deepEqual(statuses, ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
});
