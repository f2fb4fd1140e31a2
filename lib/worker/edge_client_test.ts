import assert from "node:assert/strict";
import { type EdgeCall, EdgeCallError, EdgeClient, httpCall } from "./edge_client.ts";
import { supabaseCall } from "./supabase_call.ts";

const API_KEY = "edge-client-test-key-0123456789";
const ANON_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl";

interface Seen {
  path: string;
  headers: Headers;
  body: string;
}

/** A server on 127.0.0.1 answering every request with `answer`, keeping what it was sent. */
function scripted(answer: () => Response) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    seen.push({
      path: new URL(request.url).pathname,
      headers: request.headers,
      body: await request.text(),
    });
    return answer();
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, server };
}

function calls(url: string): Record<string, EdgeCall> {
  return {
    http: httpCall({ functionsUrl: `${url}/functions/v1`, apiKey: API_KEY }),
    supabase: supabaseCall({ supabaseUrl: url, anonKey: ANON_KEY, apiKey: API_KEY }),
  };
}

/** What a call of `getMonitors` came to: its value, or its error's class, status and message. */
async function outcome(call: EdgeCall): Promise<unknown> {
  const client = new EdgeClient({ call, workerId: "aws-tyo1a" });
  try {
    return { value: await client.getMonitors() };
  } catch (error) {
    return {
      error: (error as Error).name,
      status: error instanceof EdgeCallError ? error.status : undefined,
      message: (error as Error).message,
    };
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

const ANSWERS: [string, () => Response, unknown][] = [
  [
    "the monitors",
    () =>
      json({ success: true, data: { worker_id: "aws-tyo1a", monitors: [{ monitor_id: "m" }] } }),
    { value: [{ monitor_id: "m" }] },
  ],
  [
    "the seed's envelope",
    () =>
      json(
        { success: false, error: { code: "WORKER_INACTIVE", message: "Worker is not active" } },
        403,
      ),
    {
      error: "EdgeCallError",
      status: 403,
      message: "get-monitors-to-check answered 403: Worker is not active",
    },
  ],
  [
    "the seed's flat error",
    () => json({ error: "Database insert failed", details: "disk full" }, 500),
    {
      error: "EdgeCallError",
      status: 500,
      message: "get-monitors-to-check answered 500: Database insert failed",
    },
  ],
  [
    "the gateway's refusal",
    () => json({ code: 401, message: "Missing authorization header" }, 401),
    {
      error: "EdgeCallError",
      status: 401,
      message: "get-monitors-to-check answered 401: Missing authorization header",
    },
  ],
  [
    "a relay error",
    () =>
      json({ code: "BOOT_ERROR", message: "Function failed to start" }, 503, {
        "x-relay-error": "true",
      }),
    {
      error: "EdgeCallError",
      status: 503,
      message: "get-monitors-to-check answered 503: Function failed to start",
    },
  ],
  [
    "a proxy's HTML page",
    () => new Response("<h1>502 Bad Gateway</h1>", { status: 502 }),
    {
      error: "EdgeCallError",
      status: 502,
      message: "get-monitors-to-check answered 502: <h1>502 Bad Gateway</h1>",
    },
  ],
  [
    "a 200 that is not JSON",
    () => new Response("ok", { status: 200, headers: { "Content-Type": "text/plain" } }),
    {
      error: "SyntaxError",
      status: undefined,
      message: `Unexpected token 'o', "ok" is not valid JSON`,
    },
  ],
];

for (const [what, answer, expected] of ANSWERS) {
  Deno.test(`a call through supabase-js comes to what the plain HTTP call does: ${what}`, async () => {
    const target = scripted(answer);
    const outcomes: Record<string, unknown> = {};
    for (const [way, call] of Object.entries(calls(target.url))) {
      outcomes[way] = await outcome(call);
    }
    await target.server.shutdown();
    assert.deepEqual(outcomes, { http: expected, supabase: expected });
  });
}

Deno.test("a call that gets no answer is unreachable (status 0) either way", async () => {
  const target = scripted(() => new Response());
  await target.server.shutdown();
  const messages = [];
  for (const call of Object.values(calls(target.url))) {
    const error = await new EdgeClient({ call, workerId: "aws-tyo1a" }).sendResults([]).then(
      () => assert.fail("a call to a closed port succeeded"),
      (error) => error,
    );
    assert.ok(error instanceof EdgeCallError);
    assert.equal(error.status, 0);
    assert.match(error.message, /^Cannot reach batch-save-results: fetch failed: .*refused/);
    messages.push(error.message);
  }
  assert.equal(messages[0], messages[1]);
});

Deno.test("supabase-js sends the anon key as Bearer and apikey besides the worker key and the same body", async () => {
  const target = scripted(() => json({ success: true, inserted: 1 }));
  const results = { http: 0, supabase: 0 } as Record<string, number>;
  for (const [way, call] of Object.entries(calls(target.url))) {
    results[way] = await new EdgeClient({ call, workerId: "aws-tyo1a" }).sendResults([]);
  }
  await target.server.shutdown();
  assert.deepEqual(results, { http: 1, supabase: 1 });
  const [plain, supabase] = target.seen;
  assert.equal(plain.path, "/functions/v1/batch-save-results");
  assert.equal(supabase.path, "/functions/v1/batch-save-results");
  assert.equal(supabase.body, plain.body);
  assert.equal(plain.body, JSON.stringify({ check_results: [] }));
  for (const seen of [plain, supabase]) {
    assert.equal(seen.headers.get("x-pingmon-api-key"), API_KEY);
    assert.equal(seen.headers.get("content-type"), "application/json");
  }
  assert.equal(plain.headers.get("authorization"), null);
  assert.equal(plain.headers.get("apikey"), null);
  assert.equal(supabase.headers.get("authorization"), `Bearer ${ANON_KEY}`);
  assert.equal(supabase.headers.get("apikey"), ANON_KEY);
});
