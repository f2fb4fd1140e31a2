import assert from "node:assert/strict";
import { Http1Client, type Http1Request } from "./http1_client.ts";
import { NetFailure } from "./net_errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

import { ok, rawServer, RequestReader, write } from "./raw_server_test_support.ts";

function request(url: string, overrides: Partial<Http1Request> = {}): Http1Request {
  return {
    url: new URL(url),
    address: null,
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Webhook-ID": "wh_1" },
    body: encoder.encode('{"a":"é"}'),
    signal: AbortSignal.timeout(5000),
    bodyLimit: 1024,
    ...overrides,
  };
}

Deno.test("http1: sends the exact body with Host and Content-Length, and reads the answer", async () => {
  const server = rawServer(async (_request, conn) => {
    await write(
      conn,
      "HTTP/1.1 201 Created\r\nX-One: a\r\nx-one: b\r\nContent-Length: 5\r\n\r\nhello",
    );
    return "keep";
  });
  const client = new Http1Client();
  const response = await client.request(request(server.url, {
    headers: { "X-Custom": "yes", "Connection": "upgrade", "Host": "evil.test" },
  }));
  client.close();
  await server.close();
  assert.equal(response.status, 201);
  assert.equal(decoder.decode(response.body), "hello");
  assert.equal(response.bodyTruncated, false);
  assert.equal(response.headers["x-one"], "a, b");
  const [sent] = server.requests;
  const lines = sent.head.split("\r\n");
  assert.equal(lines[0], "POST /hook?x=1 HTTP/1.1");
  assert.ok(lines.includes(`Host: 127.0.0.1:${server.port}`));
  assert.ok(lines.includes(`Content-Length: ${encoder.encode('{"a":"é"}').length}`));
  assert.ok(lines.includes("X-Custom: yes"));
  // The client's own framing headers cannot be replaced by the caller's.
  assert.ok(!lines.some((l) => /^connection:|^host: evil/i.test(l)));
  assert.deepEqual(sent.body, encoder.encode('{"a":"é"}'));
});

Deno.test("http1: keeps a connection alive across requests, and reuses it", async () => {
  const server = rawServer(async (_r, conn) => {
    await write(conn, ok());
    return "keep";
  });
  const client = new Http1Client();
  for (let i = 0; i < 5; i++) {
    assert.equal((await client.request(request(server.url))).status, 200);
  }
  client.close();
  await server.close();
  assert.equal(server.requests.length, 5);
  assert.equal(server.accepted(), 1);
});

Deno.test("http1: decodes a chunked body with trailers and keeps the connection", async () => {
  const server = rawServer(async (_r, conn) => {
    await write(
      conn,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    return "keep";
  });
  const client = new Http1Client();
  const first = await client.request(request(server.url));
  const second = await client.request(request(server.url));
  client.close();
  await server.close();
  assert.equal(decoder.decode(first.body), "hello, world");
  assert.equal(decoder.decode(second.body), "hello, world");
  assert.equal(server.accepted(), 1);
});

Deno.test("http1: a body that ends with the connection is read, and the connection is not reused", async () => {
  const server = rawServer(async (_r, conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
    return "close";
  });
  const client = new Http1Client();
  const first = await client.request(request(server.url));
  const second = await client.request(request(server.url));
  client.close();
  await server.close();
  assert.equal(decoder.decode(first.body), "until the end");
  assert.equal(second.status, 200);
  assert.equal(server.accepted(), 2);
});

Deno.test("http1: skips interim 1xx answers; Connection: close and HTTP/1.0 are not reused", async () => {
  const server = rawServer(async (_r, conn, i) => {
    if (i === 0) {
      await write(conn, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + ok("first"));
      return "keep";
    }
    if (i === 1) {
      await write(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
      return "keep";
    }
    await write(conn, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    return "keep";
  });
  const client = new Http1Client();
  const first = await client.request(request(server.url));
  assert.equal(first.status, 200);
  assert.equal(decoder.decode(first.body), "first");
  await client.request(request(server.url));
  await client.request(request(server.url));
  await client.request(request(server.url));
  client.close();
  await server.close();
  // 1: the first two requests; 2: after Connection: close; 3: after the HTTP/1.0 answer.
  assert.equal(server.accepted(), 3);
});

Deno.test("http1: a kept connection the server closed while idle is replaced, the request sent once", async () => {
  const server = rawServer(async (_r, conn) => {
    await write(conn, ok());
    // Closes without saying so, as a server's idle timeout does.
    return "close";
  });
  const client = new Http1Client();
  await client.request(request(server.url));
  await new Promise((r) => setTimeout(r, 50));
  const second = await client.request(request(server.url));
  client.close();
  await server.close();
  assert.equal(second.status, 200);
  assert.equal(server.requests.length, 2);
  assert.equal(server.accepted(), 2);
});

Deno.test("http1: connections idle longer than idleMs are not reused", async () => {
  let now = 0;
  const server = rawServer(async (_r, conn) => {
    await write(conn, ok());
    return "keep";
  });
  const client = new Http1Client({ idleMs: 1000, now: () => now });
  await client.request(request(server.url));
  now = 999;
  await client.request(request(server.url));
  assert.equal(server.accepted(), 1);
  now = 2000;
  await client.request(request(server.url));
  client.close();
  await server.close();
  assert.equal(server.accepted(), 2);
});

Deno.test("http1: keeps at most maxIdle connections open over all targets", async () => {
  const servers = [0, 1, 2].map(() =>
    rawServer(async (_r, conn) => {
      await write(conn, ok());
      return "keep";
    })
  );
  const client = new Http1Client({ maxIdle: 2 });
  for (const server of servers) await client.request(request(server.url));
  for (const server of servers) await client.request(request(server.url));
  client.close();
  for (const server of servers) await server.close();
  // The third target's connection was not kept, so its second request opened another.
  assert.deepEqual(servers.map((s) => s.accepted()), [1, 1, 2]);
});

Deno.test("http1: the deadline cuts a server that never answers", async () => {
  const server = rawServer(() => new Promise(() => {}));
  const client = new Http1Client();
  const started = performance.now();
  const reason = new NetFailure("timeout", "deadline");
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 200);
  await assert.rejects(client.request(request(server.url, { signal: controller.signal })), reason);
  const took = performance.now() - started;
  client.close();
  await server.close();
  assert.ok(took < 2000, `took ${took} ms`);
});

Deno.test("http1: an endless body costs only the bytes kept and the connection is dropped", async () => {
  const server = rawServer(async (_r, conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = "x".repeat(8192);
    for (;;) await write(conn, `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  });
  const client = new Http1Client();
  const response = await client.request(request(server.url, { bodyLimit: 100 }));
  await client.request(request(server.url)).catch(() => {});
  client.close();
  await server.close();
  assert.equal(response.body.length, 100);
  assert.equal(response.bodyTruncated, true);
  assert.equal(server.accepted(), 2);
});

Deno.test("http1: refuses oversized response headers and malformed answers", async () => {
  const server = rawServer(async (_r, conn, i) => {
    if (i === 0) await write(conn, "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n");
    else await write(conn, "SSH-2.0-OpenSSH\r\n\r\n");
    return "close";
  });
  const client = new Http1Client();
  await assert.rejects(client.request(request(server.url)), /response header too large/);
  await assert.rejects(client.request(request(server.url)), /invalid response/);
  client.close();
  await server.close();
});

Deno.test("http1: refuses header values that would split the request", async () => {
  const client = new Http1Client();
  await assert.rejects(
    client.request(request("http://127.0.0.1:9/", { headers: { "X-A": "1\r\nX-Injected: 2" } })),
    (error: unknown) =>
      error instanceof NetFailure && /invalid value for header/.test(error.message),
  );
  await assert.rejects(
    client.request(request("http://127.0.0.1:9/", { headers: { "Bad Name": "1" } })),
    /invalid header name/,
  );
});

Deno.test("http1: https to the pinned address, verified against the URL's host name", async () => {
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
  const caCerts = [await Deno.readTextFile(new URL("ca.pem", dir))];
  const client = new Http1Client({ caCerts });
  // The name in the URL is what the certificate must match; the socket goes to the address.
  const good = await client.request(
    request(`https://localhost:${port}/`, { address: "127.0.0.1" }),
  );
  assert.equal(decoder.decode(good.body), "secure");
  await assert.rejects(
    client.request(request(`https://hooks.example.com:${port}/`, { address: "127.0.0.1" })),
    /certificate|NotValidForName/i,
  );
  await assert.rejects(
    new Http1Client().request(request(`https://localhost:${port}/`, { address: "127.0.0.1" })),
    /certificate|UnknownIssuer/i,
  );
  client.close();
  listener.close();
  await serving.catch(() => {});
});
