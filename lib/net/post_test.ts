import assert from "node:assert/strict";
import { Http1Client } from "./http1_client.ts";
import { post } from "./post.ts";
import type { ProbeRequest } from "./probe.ts";
import type { Resolver } from "./ssrf.ts";

function serve(handler: Deno.ServeHandler<Deno.NetAddr>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  return Object.assign(server, { base: `http://127.0.0.1:${server.addr.port}` });
}

function hook(url: string, init: Partial<ProbeRequest> = {}): ProbeRequest {
  return {
    url,
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"id":"wh_1"}',
    timeoutMs: 5000,
    ...init,
  };
}

function resolverFor(table: Record<string, string[]>): Resolver {
  return (hostname) => {
    const answer = table[hostname];
    return answer ? Promise.resolve(answer) : Promise.reject(new Error("no such name"));
  };
}

/** Each test its own client, closed at the end, so no connection outlives its test. */
async function withClient<T>(run: (client: Http1Client) => Promise<T>): Promise<T> {
  const client = new Http1Client();
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

Deno.test("post() reports a 2xx answer as a success, with headers and body", async () => {
  await using server = serve(async (request) =>
    new Response(`got ${await request.text()}`, { status: 202, headers: { "X-Thing": "1" } })
  );
  let tick = 1000;
  const result = await withClient((client) =>
    post(hook(`${server.base}/in`), { allowPrivate: true, now: () => (tick += 21.3) }, client)
  );
  assert.equal(result.success, true);
  assert.equal(result.code, 202);
  assert.equal(result.durationMs, 21);
  assert.equal(result.body, 'got {"id":"wh_1"}');
  assert.equal(result.headers["x-thing"], "1");
  assert.equal(result.error, null);
  assert.equal(result.failure, null);
});

Deno.test("post() sends Hibiki's user agent unless one is given", async () => {
  await using server = serve((request) => new Response(request.headers.get("user-agent")));
  await withClient(async (client) => {
    const plain = await post(
      hook(server.base),
      { allowPrivate: true, userAgent: "Hook/1" },
      client,
    );
    assert.equal(plain.body, "Hook/1");
    const own = await post(
      hook(server.base, { headers: { "user-agent": "mine/2" } }),
      { allowPrivate: true },
      client,
    );
    assert.equal(own.body, "mine/2");
  });
});

Deno.test("post() fails a redirect without following it", async () => {
  let followed = false;
  await using server = serve((request) => {
    if (new URL(request.url).pathname === "/elsewhere") followed = true;
    return new Response(null, { status: 302, headers: { Location: "/elsewhere" } });
  });
  const result = await withClient((client) =>
    post(hook(`${server.base}/in`), { allowPrivate: true }, client)
  );
  assert.equal(result.success, false);
  assert.equal(result.code, 302);
  assert.equal(result.failure, "Expected status 2xx, got 302");
  assert.equal(result.redirects, 0);
  assert.equal(followed, false);
});

Deno.test("post() caps the body it keeps and drops a cut character", async () => {
  await using server = serve(() => new Response("ab€".repeat(100)));
  const result = await withClient((client) =>
    post(hook(server.base), { allowPrivate: true, bodyLimit: 4 }, client)
  );
  assert.equal(result.body, "ab");
  assert.equal(result.bodyTruncated, true);
});

Deno.test("post() cuts a receiver that hangs at the deadline", async () => {
  const hanging = Promise.withResolvers<void>();
  await using server = serve(async () => {
    await hanging.promise;
    return new Response("late");
  });
  const started = performance.now();
  const result = await withClient((client) =>
    post(hook(server.base, { timeoutMs: 150 }), { allowPrivate: true }, client)
  );
  hanging.resolve();
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(result.error, { category: "timeout", message: "Timed out after 150 ms" });
  assert.equal(result.code, 0);
});

Deno.test("post() refuses a private address before connecting", async () => {
  let reached = false;
  await using server = serve(() => {
    reached = true;
    return new Response("ok");
  });
  const result = await withClient((client) =>
    post(hook(server.base), { allowPrivate: false }, client)
  );
  assert.equal(result.error?.category, "blocked");
  assert.equal(reached, false);
});

Deno.test("post() connects to the vetted address and sends the name as Host", async () => {
  await using server = serve((request) =>
    new Response(`${request.headers.get("host")} ${new URL(request.url).pathname}`)
  );
  const port = server.addr.port;
  // The resolver is asked once; whatever the name resolves to afterwards does not matter.
  let lookups = 0;
  const resolve: Resolver = (name, options) => {
    lookups++;
    return resolverFor({ "hooks.test": ["127.0.0.1"] })(name, options);
  };
  const result = await withClient((client) =>
    post(hook(`http://hooks.test:${port}/path?q=1`), {
      allowPrivate: false,
      resolve,
      isBlocked: () => null,
    }, client)
  );
  assert.equal(result.error, null);
  assert.equal(result.body, `hooks.test:${port} /path`);
  assert.equal(lookups, 1);
});

Deno.test("post() reports refused, reset, DNS and TLS failures by category", async () => {
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const closedPort = closed.addr.port;
  closed.close();
  const hangUp = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const accepting = (async () => {
    for await (const conn of hangUp) conn.close();
  })();
  await using plain = serve(() => new Response("plain http"));
  await withClient(async (client) => {
    const refused = await post(
      hook(`http://127.0.0.1:${closedPort}/`),
      { allowPrivate: true },
      client,
    );
    assert.deepEqual(refused.error, {
      category: "refused",
      message: `Cannot connect to "http://127.0.0.1:${closedPort}/": connection refused`,
    });
    const reset = await post(
      hook(`http://127.0.0.1:${hangUp.addr.port}/`),
      { allowPrivate: true },
      client,
    );
    assert.equal(reset.error?.category, "reset");
    const dns = await post(hook("https://missing.test/"), {
      allowPrivate: false,
      resolve: resolverFor({}),
    }, client);
    assert.deepEqual(dns.error, {
      category: "dns",
      message: 'Cannot resolve "missing.test": no such name',
    });
    const tls = await post(
      hook(`https://127.0.0.1:${plain.addr.port}/`),
      { allowPrivate: true },
      client,
    );
    assert.equal(tls.error?.category, "tls");
  });
  hangUp.close();
  await accepting;
});

Deno.test("post() turns an unparsable URL or a bad header into a network error", async () => {
  await withClient(async (client) => {
    const url = await post(hook("not a url"), { allowPrivate: true }, client);
    assert.deepEqual(url.error, {
      category: "network",
      message: 'Cannot send request: invalid URL "not a url"',
    });
    const header = await post(
      hook("http://127.0.0.1:9/", { headers: { "X-A": "1\r\nX-B: 2" } }),
      { allowPrivate: true },
      client,
    );
    assert.equal(header.error?.category, "network");
    assert.match(header.error?.message ?? "", /invalid value for header "X-A"/);
  });
});

Deno.test("post() goes through HTTP_PROXY when one is configured", async () => {
  await using proxy = serve(async (request) =>
    new Response(`proxied ${request.method} ${request.url} ${await request.text()}`)
  );
  // The proxy setting is read once per process: a fresh process sees this one.
  const code = `
    import { post } from ${JSON.stringify(new URL("./post.ts", import.meta.url).href)};
    const result = await post(
      { url: "http://hooks.test/in", method: "POST", headers: {}, body: "hi", timeoutMs: 5000 },
      { allowPrivate: true },
    );
    console.log(JSON.stringify(result));`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env: { HTTP_PROXY: proxy.base, NO_PROXY: "" },
    stderr: "inherit",
  }).output();
  assert.equal(output.code, 0);
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(result.success, true);
  assert.equal(result.body, "proxied POST http://hooks.test/in hi");
});
