/**
 * The one outbound module: its deadline, the caller's abort, decoding, header checks and https
 * pinned through the SSRF guard (the HTTP/1.1 framing itself is http1_client_test.ts), and what
 * deliveries and relays see (lib/net/probe.ts with `maxRedirects: 0`) against Deno.serve.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import {
  closeOutbound,
  type OutboundRequest,
  send,
  type SendOptions,
  useExtraCaCerts,
} from "./outbound.ts";
import { probe, type ProbeRequest } from "./probe.ts";
import type { Resolver } from "./ssrf.ts";
import { CertificateReader } from "./tls_certificate.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

import { ok, rawServer, RequestReader, write } from "./raw_server_test_support.ts";

function request(url: string, overrides: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    url,
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Webhook-ID": "wh_1" },
    body: encoder.encode('{"a":"é"}'),
    ...overrides,
  };
}

const direct: SendOptions = { timeoutMs: 5000, bodyCap: 1024, allowPrivate: true };

/** Sends with a fresh pool, closed after, so no connection outlives its test. */
async function withPool<T>(run: () => Promise<T>): Promise<T> {
  closeOutbound();
  try {
    return await run();
  } finally {
    closeOutbound();
  }
}

Deno.test("send() cuts a server that never answers at the deadline", async () => {
  const server = rawServer(() => new Promise(() => {}));
  const started = performance.now();
  const result = await withPool(() => send(request(server.url), { ...direct, timeoutMs: 200 }));
  const took = performance.now() - started;
  await server.close();
  assert.deepEqual(result.error, { category: "timeout", message: "Timed out after 200 ms" });
  assert.equal(result.status, 0);
  assert.ok(took < 2000, `took ${took} ms`);
});

Deno.test("send() passes the caller's own abort through", async () => {
  const server = rawServer(() => new Promise(() => {}));
  const reason = new Error("shutting down");
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 50);
  await withPool(() =>
    assert.rejects(send(request(server.url), { ...direct, signal: controller.signal }), reason)
  );
  await server.close();
});

Deno.test("send() decodes gzip and brotli answers, and caps the decoded bytes", async () => {
  const text = "compressed ".repeat(2000);
  const packed = async (format: CompressionFormat) =>
    new Uint8Array(
      await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream(format)))
        .arrayBuffer(),
    );
  const bodies: Record<string, Uint8Array<ArrayBuffer>> = {
    gzip: await packed("gzip"),
    br: await packed("brotli" as CompressionFormat),
  };
  const asked: string[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    asked.push(req.headers.get("accept-encoding") ?? "");
    const coding = new URL(req.url).pathname.slice(1);
    return new Response(bodies[coding], { headers: { "Content-Encoding": coding } });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  await withPool(async () => {
    for (const coding of ["gzip", "br"]) {
      const whole = await send(request(`${base}/${coding}`), { ...direct, bodyCap: 1 << 20 });
      assert.equal(whole.error, null);
      assert.equal(decoder.decode(whole.body), text);
      const capped = await send(request(`${base}/${coding}`), { ...direct, bodyCap: 30 });
      assert.equal(decoder.decode(capped.body), text.slice(0, 30));
      assert.equal(capped.bodyTruncated, true);
    }
  });
  assert.deepEqual(asked, Array(4).fill("gzip, br"));
});

Deno.test("send() refuses header values that would split the request", async () => {
  const value = await send(
    request("http://127.0.0.1:9/", { headers: { "X-A": "1\r\nX-Injected: 2" } }),
    direct,
  );
  assert.deepEqual(value.error, {
    category: "network",
    message: 'Cannot send request: invalid value for header "X-A"',
  });
  const name = await send(request("http://127.0.0.1:9/", { headers: { "Bad Name": "1" } }), direct);
  assert.match(name.error?.message ?? "", /invalid header name "Bad Name"/);
});

Deno.test("send() takes https to the vetted address, verified against the URL's host name", async () => {
  const dir = new URL("../../tests/fixtures/tls/", import.meta.url);
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(new URL("server.pem", dir)),
    key: await Deno.readTextFile(new URL("server.key", dir)),
  });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const reader = new RequestReader(conn);
        while (await reader.next()) await write(conn, ok("secure"));
      })().catch(() => {});
    }
  })();
  // Both names resolve to the test server; only the guard's answer is connected to.
  const vetted: SendOptions = {
    ...direct,
    allowPrivate: false,
    resolve: () => Promise.resolve(["127.0.0.1"]),
    isBlocked: () => null,
  };
  try {
    useExtraCaCerts([await Deno.readTextFile(new URL("ca.pem", dir))]);
    // The name in the URL is what the certificate must match; the socket goes to the address.
    const good = await send(request(`https://hooks.test:${port}/`), vetted);
    assert.equal(good.error, null);
    assert.equal(decoder.decode(good.body), "secure");
    const wrongName = await send(request(`https://hooks.example.com:${port}/`), vetted);
    assert.equal(wrongName.error?.category, "tls");
    assert.match(wrongName.error?.message ?? "", /altnames|certificate|NotValidForName/i);
    useExtraCaCerts(undefined);
    const unknownCa = await send(request(`https://hooks.test:${port}/`), vetted);
    assert.equal(unknownCa.error?.category, "tls");
  } finally {
    useExtraCaCerts(undefined);
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("send() reads an https URL's certificate beside the request when asked, and fails the run as before", async () => {
  const dir = new URL("../../tests/fixtures/tls/", import.meta.url);
  const cert = await Deno.readTextFile(new URL("server.pem", dir));
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key: await Deno.readTextFile(new URL("server.key", dir)),
  });
  const port = (listener.addr as Deno.NetAddr).port;
  let accepted = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      accepted++;
      (async () => {
        const reader = new RequestReader(conn);
        while (await reader.next()) await write(conn, ok("secure"));
      })().catch(() => {});
    }
  })();
  const plain = rawServer(async (_, conn) => (await write(conn, ok()), "keep"));
  const vetted: SendOptions = {
    ...direct,
    allowPrivate: false,
    resolve: () => Promise.resolve(["127.0.0.1"]),
    isBlocked: () => null,
  };
  const fingerprint = new X509Certificate(cert).fingerprint256;
  try {
    useExtraCaCerts([await Deno.readTextFile(new URL("ca.pem", dir))]);
    const asked = { ...vetted, certificates: new CertificateReader() };
    const good = await send(request(`https://hooks.test:${port}/`), asked);
    assert.equal(good.error, null);
    assert.equal(good.certificate?.fingerprint256, fingerprint);
    assert.equal(good.certificate?.validTo, "2126-11-10T21:09:08.000Z");
    // The run's connection and the read's.
    assert.equal(accepted, 2);
    const notAsked = await send(request(`https://hooks.test:${port}/`), vetted);
    assert.equal(notAsked.certificate, undefined);
    const http = await send(request(`http://hooks.test:${plain.port}/`), asked);
    assert.equal(http.error, null);
    assert.equal(http.certificate, undefined);
    // A certificate the run does not trust still fails it; what was presented is told.
    useExtraCaCerts(undefined);
    const untrusted = await send(request(`https://hooks.test:${port}/`), {
      ...vetted,
      certificates: new CertificateReader(),
    });
    assert.equal(untrusted.error?.category, "tls");
    assert.equal(untrusted.certificate?.fingerprint256, fingerprint);
  } finally {
    useExtraCaCerts(undefined);
    listener.close();
    await plain.close();
    await serving.catch(() => {});
  }
});

// What deliveries and relays send: lib/net/probe.ts with `maxRedirects: 0`.

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

const delivery = { allowPrivate: true, maxRedirects: 0 };

Deno.test("a delivery's 2xx answer is a success, with headers and body", async () => {
  await using server = serve(async (request) =>
    new Response(`got ${await request.text()}`, { status: 202, headers: { "X-Thing": "1" } })
  );
  let tick = 1000;
  const result = await withPool(() =>
    probe(hook(`${server.base}/in`), { ...delivery, now: () => (tick += 21.3) })
  );
  assert.equal(result.success, true);
  assert.equal(result.code, 202);
  assert.equal(result.durationMs, 21);
  assert.equal(result.body, 'got {"id":"wh_1"}');
  assert.equal(result.headers["x-thing"], "1");
  assert.equal(result.error, null);
  assert.equal(result.failure, null);
});

Deno.test("a delivery sends its user agent unless one is given", async () => {
  await using server = serve((request) => new Response(request.headers.get("user-agent")));
  await withPool(async () => {
    const plain = await probe(hook(server.base), { ...delivery, userAgent: "Hook/1" });
    assert.equal(plain.body, "Hook/1");
    const own = await probe(hook(server.base, { headers: { "user-agent": "mine/2" } }), delivery);
    assert.equal(own.body, "mine/2");
  });
});

Deno.test("a delivery fails on a redirect without following it", async () => {
  let followed = false;
  await using server = serve((request) => {
    if (new URL(request.url).pathname === "/elsewhere") followed = true;
    return new Response(null, { status: 302, headers: { Location: "/elsewhere" } });
  });
  const result = await withPool(() => probe(hook(`${server.base}/in`), delivery));
  assert.equal(result.success, false);
  assert.equal(result.code, 302);
  assert.equal(result.error, null);
  assert.equal(result.failure, "Expected status 2xx, got 302");
  assert.equal(result.redirects, 0);
  assert.equal(followed, false);
});

Deno.test("a delivery keeps a capped answer and drops a cut character", async () => {
  await using server = serve(() => new Response("ab€".repeat(100)));
  const result = await withPool(() => probe(hook(server.base), { ...delivery, bodyLimit: 4 }));
  assert.equal(result.body, "ab");
  assert.equal(result.bodyTruncated, true);
});

Deno.test("a delivery to a receiver that hangs is cut at the deadline", async () => {
  const hanging = Promise.withResolvers<void>();
  await using server = serve(async () => {
    await hanging.promise;
    return new Response("late");
  });
  const started = performance.now();
  const result = await withPool(() => probe(hook(server.base, { timeoutMs: 150 }), delivery));
  hanging.resolve();
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(result.error, { category: "timeout", message: "Timed out after 150 ms" });
  assert.equal(result.code, 0);
});

Deno.test("a delivery to a private address is refused before connecting", async () => {
  let reached = false;
  await using server = serve(() => {
    reached = true;
    return new Response("ok");
  });
  const result = await withPool(() =>
    probe(hook(server.base), { ...delivery, allowPrivate: false })
  );
  assert.equal(result.error?.category, "blocked");
  assert.equal(reached, false);
});

Deno.test("a delivery connects to the vetted address and sends the name as Host", async () => {
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
  const result = await withPool(() =>
    probe(hook(`http://hooks.test:${port}/path?q=1`), {
      ...delivery,
      allowPrivate: false,
      resolve,
      isBlocked: () => null,
    })
  );
  assert.equal(result.error, null);
  assert.equal(result.body, `hooks.test:${port} /path`);
  assert.equal(lookups, 1);
});

Deno.test("a delivery reports refused, reset, DNS and TLS failures by category", async () => {
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const closedPort = closed.addr.port;
  closed.close();
  const hangUp = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const accepting = (async () => {
    for await (const conn of hangUp) conn.close();
  })();
  await using plain = serve(() => new Response("plain http"));
  await withPool(async () => {
    const refused = await probe(hook(`http://127.0.0.1:${closedPort}/`), delivery);
    assert.deepEqual(refused.error, {
      category: "refused",
      message: `Cannot connect to "http://127.0.0.1:${closedPort}/": connection refused`,
    });
    const reset = await probe(hook(`http://127.0.0.1:${hangUp.addr.port}/`), delivery);
    assert.equal(reset.error?.category, "reset");
    const dns = await probe(hook("https://missing.test/"), {
      ...delivery,
      allowPrivate: false,
      resolve: resolverFor({}),
    });
    assert.deepEqual(dns.error, {
      category: "dns",
      message: 'Cannot resolve "missing.test": no such name',
    });
    const tls = await probe(hook(`https://127.0.0.1:${plain.addr.port}/`), delivery);
    assert.equal(tls.error?.category, "tls");
  });
  hangUp.close();
  await accepting;
});

Deno.test("a delivery to an unparsable URL or with a bad header is a network error", async () => {
  const url = await probe(hook("not a url"), delivery);
  assert.deepEqual(url.error, {
    category: "network",
    message: 'Cannot send request: invalid URL "not a url"',
  });
  const header = await probe(
    hook("http://127.0.0.1:9/", { headers: { "X-A": "1\r\nX-B: 2" } }),
    delivery,
  );
  assert.equal(header.error?.category, "network");
  assert.match(header.error?.message ?? "", /invalid value for header "X-A"/);
});

Deno.test("a delivery goes through HTTP_PROXY when one is configured", async () => {
  await using proxy = serve(async (request) =>
    new Response(`proxied ${request.method} ${request.url} ${await request.text()}`)
  );
  // The proxy setting is read once per process: a fresh process sees this one.
  const code = `
    import { probe } from ${JSON.stringify(new URL("./probe.ts", import.meta.url).href)};
    const result = await probe(
      { url: "http://hooks.test/in", method: "POST", headers: {}, body: "hi", timeoutMs: 5000 },
      { allowPrivate: true, maxRedirects: 0 },
    );
    console.log(JSON.stringify(result));
    Deno.exit(0);`;
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
