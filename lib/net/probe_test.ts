import assert from "node:assert/strict";
import { closeOutbound, useExtraCaCerts } from "./outbound.ts";
import { DEFAULT_USER_AGENT, probe, type ProbeRequest } from "./probe.ts";
import { isBlockedAddress, type Resolver } from "./ssrf.ts";

function serve(handler: Deno.ServeHandler<Deno.NetAddr>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  return Object.assign(server, { base: `http://127.0.0.1:${server.addr.port}` });
}

function get(url: string, init: Partial<ProbeRequest> = {}): ProbeRequest {
  return { url, method: "GET", headers: {}, body: null, timeoutMs: 5000, ...init };
}

/** A clock that returns the given readings in order (probe reads it at start and at end). */
function clock(...readings: number[]): () => number {
  let i = 0;
  return () => readings[Math.min(i++, readings.length - 1)];
}

function resolverFor(table: Record<string, string[]>): Resolver {
  return (hostname) => {
    const answer = table[hostname];
    return answer ? Promise.resolve(answer) : Promise.reject(new Error("no such name"));
  };
}

const encoder = new TextEncoder();

Deno.test("probe() reports a 200 response as a success", async () => {
  await using server = serve(() =>
    new Response("all ok", { headers: { "Content-Type": "text/plain", "X-Thing": "1" } })
  );
  const result = await probe(get(`${server.base}/health`), {
    allowPrivate: true,
    now: clock(1000, 1042.4),
  });
  assert.deepEqual(
    { ...result, headers: undefined },
    {
      success: true,
      code: 200,
      durationMs: 42,
      headers: undefined,
      body: "all ok",
      bodyTruncated: false,
      error: null,
      failure: null,
      finalUrl: `${server.base}/health`,
      redirects: 0,
    },
  );
  assert.equal(result.headers["content-type"], "text/plain");
  assert.equal(result.headers["x-thing"], "1");
});

Deno.test("probe() sends the Hibiki user agent unless the job sets one", async () => {
  await using server = serve((request) => new Response(request.headers.get("user-agent")));
  const plain = await probe(get(server.base), { allowPrivate: true });
  assert.equal(plain.body, DEFAULT_USER_AGENT);
  const own = await probe(get(server.base, { headers: { "user-agent": "mine/2" } }), {
    allowPrivate: true,
  });
  assert.equal(own.body, "mine/2");
});

Deno.test("probe() fails a non-2xx status by default and names the expectation", async () => {
  await using server = serve(() => new Response("down", { status: 503 }));
  const result = await probe(get(server.base), { allowPrivate: true });
  assert.equal(result.success, false);
  assert.equal(result.code, 503);
  assert.equal(result.error, null);
  assert.equal(result.failure, "Expected status 2xx, got 503");
  assert.equal(result.body, "down");
});

Deno.test("probe() checks an explicit status or list of statuses", async () => {
  await using server = serve(() => new Response("down", { status: 503 }));
  const one = await probe(get(server.base), { allowPrivate: true, expect: { status: 200 } });
  assert.equal(one.failure, "Expected status 200, got 503");
  const many = await probe(get(server.base), {
    allowPrivate: true,
    expect: { status: [200, 204, 301] },
  });
  assert.equal(many.failure, "Expected status 200, 204 or 301, got 503");
  const accepted = await probe(get(server.base), {
    allowPrivate: true,
    expect: { status: [500, 503] },
  });
  assert.equal(accepted.success, true);
  assert.equal(accepted.failure, null);
});

Deno.test("probe() fails when the body does not contain the expected text", async () => {
  await using server = serve(() => new Response("status: degraded"));
  const result = await probe(get(server.base), {
    allowPrivate: true,
    expect: { bodyContains: "ok" },
  });
  assert.equal(result.success, false);
  assert.equal(result.failure, 'Body does not contain "ok"');
  const found = await probe(get(server.base), {
    allowPrivate: true,
    expect: { bodyContains: "degraded" },
  });
  assert.equal(found.success, true);
});

Deno.test("probe() fails when the latency exceeds the limit on the injected clock", async () => {
  await using server = serve(() => new Response("ok"));
  const result = await probe(get(server.base), {
    allowPrivate: true,
    expect: { maxLatencyMs: 500 },
    now: clock(1000, 1812),
  });
  assert.equal(result.durationMs, 812);
  assert.equal(result.success, false);
  assert.equal(result.failure, "Latency 812 ms exceeds 500 ms");
});

Deno.test("probe() cuts a slowly trickling body at the total deadline", async () => {
  let timer: ReturnType<typeof setInterval> | undefined;
  await using server = serve(() =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode("first "));
          let sent = 0;
          timer = setInterval(() => {
            try {
              if (++sent > 100) {
                clearInterval(timer);
                controller.close();
              } else controller.enqueue(encoder.encode("more "));
            } catch {
              clearInterval(timer);
            }
          }, 50);
        },
        cancel() {
          clearInterval(timer);
        },
      }),
    )
  );
  const started = performance.now();
  const result = await probe(get(server.base, { timeoutMs: 300 }), { allowPrivate: true });
  const elapsed = performance.now() - started;
  clearInterval(timer);
  assert.equal(result.success, false);
  assert.deepEqual(result.error, { category: "timeout", message: "Timed out after 300 ms" });
  assert.equal(result.code, 200);
  assert.ok(elapsed < 1500, `took ${elapsed} ms`);
});

Deno.test("probe() counts every redirect hop against one deadline", async () => {
  await using server = serve(async (request) => {
    const hop = Number(new URL(request.url).searchParams.get("hop") ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    if (hop < 4) return Response.redirect(`${server.base}/?hop=${hop + 1}`, 302);
    return new Response("done");
  });
  const result = await probe(get(server.base, { timeoutMs: 300 }), { allowPrivate: true });
  assert.equal(result.error?.category, "timeout");
  assert.ok(result.redirects >= 1 && result.redirects < 4, `redirects ${result.redirects}`);
});

Deno.test("probe() cuts an endless body at the cap", async () => {
  const chunk = new Uint8Array(1000).fill(0x61);
  await using server = serve(() =>
    new Response(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(chunk);
        },
      }),
    )
  );
  const started = performance.now();
  const result = await probe(get(server.base, { timeoutMs: 10_000 }), {
    allowPrivate: true,
    bodyLimit: 4500,
  });
  assert.ok(performance.now() - started < 2000);
  assert.equal(result.success, true);
  assert.equal(result.bodyTruncated, true);
  assert.equal(result.body, "a".repeat(4500));
});

Deno.test("probe() keeps a body of exactly the cap untruncated", async () => {
  await using server = serve(() => new Response("x".repeat(100)));
  const result = await probe(get(server.base), { allowPrivate: true, bodyLimit: 100 });
  assert.equal(result.bodyTruncated, false);
  assert.equal(result.body.length, 100);
});

Deno.test("probe() drops a multi-byte character cut in half by the cap", async () => {
  await using server = serve(() => new Response("ab\u{1F600}cd"));
  const result = await probe(get(server.base), { allowPrivate: true, bodyLimit: 4 });
  assert.equal(result.body, "ab");
  assert.equal(result.bodyTruncated, true);
});

Deno.test("probe() sends HEAD and returns an empty body", async () => {
  const seen: string[] = [];
  await using server = serve((request) => {
    seen.push(request.method);
    return new Response("ignored", { headers: { "X-Head": "yes" } });
  });
  const result = await probe(get(server.base, { method: "HEAD" }), { allowPrivate: true });
  assert.deepEqual(seen, ["HEAD"]);
  assert.equal(result.success, true);
  assert.equal(result.body, "");
  assert.equal(result.headers["x-head"], "yes");
});

Deno.test("probe() delivers the POST body and the job's headers", async () => {
  await using server = serve(async (request) =>
    Response.json({
      method: request.method,
      type: request.headers.get("content-type"),
      custom: request.headers.get("x-custom"),
      body: await request.text(),
    })
  );
  const result = await probe(
    get(server.base, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Custom": "42" },
      body: '{"ping":true}',
    }),
    { allowPrivate: true },
  );
  assert.deepEqual(JSON.parse(result.body), {
    method: "POST",
    type: "application/json",
    custom: "42",
    body: '{"ping":true}',
  });
});

Deno.test("probe() follows a relative redirect and reports the final URL", async () => {
  await using server = serve((request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/old") {
      return new Response(null, { status: 301, headers: { location: "new" } });
    }
    return new Response(`at ${pathname}`);
  });
  const result = await probe(get(`${server.base}/old`), { allowPrivate: true });
  assert.equal(result.success, true);
  assert.equal(result.redirects, 1);
  assert.equal(result.finalUrl, `${server.base}/new`);
  assert.equal(result.body, "at /new");
});

Deno.test("probe() turns a POST into a body-less GET on 303 but keeps it on 307", async () => {
  await using server = serve(async (request) => {
    const { pathname } = new URL(request.url);
    const body = await request.text();
    if (pathname === "/see-other") return Response.redirect(`${server.base}/echo`, 303);
    if (pathname === "/temporary") return Response.redirect(`${server.base}/echo`, 307);
    return Response.json({
      method: request.method,
      body,
      type: request.headers.get("content-type"),
    });
  });
  const post = (path: string) =>
    probe(
      get(`${server.base}${path}`, {
        method: "POST",
        body: "payload",
        headers: { "content-type": "text/plain" },
      }),
      { allowPrivate: true },
    );
  assert.deepEqual(JSON.parse((await post("/see-other")).body), {
    method: "GET",
    body: "",
    type: null,
  });
  assert.deepEqual(JSON.parse((await post("/temporary")).body), {
    method: "POST",
    body: "payload",
    type: "text/plain",
  });
});

Deno.test("probe() re-vets every redirect hop and blocks one to a loopback address", async () => {
  const hits: string[] = [];
  await using server = serve((request) => {
    const { pathname } = new URL(request.url);
    hits.push(pathname);
    if (pathname === "/start") {
      return Response.redirect(`http://127.0.0.2:${server.addr.port}/secret`, 302);
    }
    return new Response("secret");
  });
  const result = await probe(get(`http://start.test:${server.addr.port}/start`), {
    allowPrivate: false,
    resolve: resolverFor({ "start.test": ["127.0.0.1"] }),
    // Only the test server's own address passes; every other hop gets the real rules.
    isBlocked: (ip) => ip === "127.0.0.1" ? null : isBlockedAddress(ip),
  });
  closeOutbound();
  assert.deepEqual(hits, ["/start"]);
  assert.equal(result.success, false);
  assert.equal(result.redirects, 1);
  assert.deepEqual(result.error, {
    category: "blocked",
    message: `Cannot connect to "http://127.0.0.2:${server.addr.port}/secret": ` +
      "address 127.0.0.2 is loopback",
  });
});

Deno.test("probe() refuses a private target before connecting", async () => {
  const result = await probe(get("http://169.254.169.254/latest/meta-data/"), {
    allowPrivate: false,
  });
  assert.equal(result.code, 0);
  assert.equal(result.error?.category, "blocked");
  assert.match(result.error?.message ?? "", /address 169\.254\.169\.254 is metadata$/);
});

Deno.test("probe() gives up after too many redirects", async () => {
  let count = 0;
  await using server = serve(() => {
    count++;
    return Response.redirect(`${server.base}/again`, 302);
  });
  const result = await probe(get(server.base), { allowPrivate: true, maxRedirects: 2 });
  assert.equal(count, 3);
  assert.equal(result.redirects, 2);
  assert.deepEqual(result.error, {
    category: "redirect",
    message: `Cannot follow redirect from "${server.base}/again": more than 2 redirects`,
  });
});

Deno.test("probe() reports a closed port as a refused connection", async () => {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const { port } = listener.addr;
  listener.close();
  const result = await probe(get(`http://127.0.0.1:${port}/`), { allowPrivate: true });
  assert.equal(result.code, 0);
  assert.deepEqual(result.error, {
    category: "refused",
    message: `Cannot connect to "http://127.0.0.1:${port}/": connection refused`,
  });
});

Deno.test("probe() reports a connection closed without an answer as a reset", async () => {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  const result = await probe(get(`http://127.0.0.1:${listener.addr.port}/`), {
    allowPrivate: true,
  });
  listener.close();
  await accepting;
  assert.equal(result.error?.category, "reset");
  assert.doesNotMatch(result.error?.message ?? "", /os error|\n/);
});

Deno.test("probe() reports a name that does not resolve as a DNS error", async () => {
  const result = await probe(get("http://missing.test/"), {
    allowPrivate: false,
    resolve: resolverFor({}),
  });
  assert.deepEqual(result.error, {
    category: "dns",
    message: 'Cannot resolve "missing.test": no such name',
  });
});

Deno.test("probe() pins plain http to the vetted address and keeps the Host header", async () => {
  await using server = serve((request) =>
    new Response(`${request.headers.get("host")} ${new URL(request.url).pathname}`)
  );
  const port = server.addr.port;
  try {
    const result = await probe(get(`http://pinned.test:${port}/path?q=1`), {
      allowPrivate: false,
      resolve: resolverFor({ "pinned.test": ["127.0.0.1"] }),
      isBlocked: () => null,
    });
    assert.equal(result.error, null);
    assert.equal(result.body, `pinned.test:${port} /path`);
    assert.equal(result.finalUrl, `http://pinned.test:${port}/path?q=1`);
  } finally {
    closeOutbound();
  }
});

Deno.test("probe() turns an invalid header into a network error instead of throwing", async () => {
  await using server = serve(() => new Response("ok"));
  const result = await probe(get(server.base, { headers: { "bad name": "x" } }), {
    allowPrivate: true,
  });
  assert.equal(result.success, false);
  assert.equal(result.error?.category, "network");
  assert.match(result.error?.message ?? "", /bad name/);
});

Deno.test("probe() turns an unparsable URL into a network error", async () => {
  const result = await probe(get("not a url"), { allowPrivate: true });
  assert.deepEqual(result.error, {
    category: "network",
    message: 'Cannot send request: invalid URL "not a url"',
  });
  assert.equal(result.finalUrl, "not a url");
});

Deno.test("probe() reports a failed TLS handshake as a TLS error", async () => {
  await using server = serve(() => new Response("plain http"));
  const url = `https://127.0.0.1:${server.addr.port}/`;
  const result = await probe(get(url), { allowPrivate: true });
  assert.equal(result.code, 0);
  assert.equal(result.error?.category, "tls");
  assert.match(
    result.error?.message ?? "",
    /^Cannot connect to "https:\/\/127\.0\.0\.1:\d+\/": TLS/,
  );
});

Deno.test("probe() pins https to the vetted address too, verified against the URL's name", async () => {
  const dir = new URL("../../tests/fixtures/tls/", import.meta.url);
  await using server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    cert: await Deno.readTextFile(new URL("server.pem", dir)),
    key: await Deno.readTextFile(new URL("server.key", dir)),
  }, (request) => new Response(`secure ${new URL(request.url).host}`));
  const port = server.addr.port;
  // hooks.test exists only in this resolver: the run must connect where the guard looked.
  const options = {
    allowPrivate: false,
    resolve: resolverFor({ "hooks.test": ["127.0.0.1"], "hooks.example.com": ["127.0.0.1"] }),
    isBlocked: () => null,
  };
  useExtraCaCerts([await Deno.readTextFile(new URL("ca.pem", dir))]);
  try {
    const good = await probe(get(`https://hooks.test:${port}/`), options);
    assert.equal(good.error, null);
    assert.equal(good.body, `secure hooks.test:${port}`);
    // The certificate does not name this host: refused although the address is the same.
    const wrong = await probe(get(`https://hooks.example.com:${port}/`), options);
    assert.equal(wrong.error?.category, "tls");
  } finally {
    useExtraCaCerts(undefined);
  }
});
