import assert from "node:assert/strict";
import { BlockedAddressError, DnsError, isBlockedAddress, type Resolver, vetUrl } from "./ssrf.ts";

const BLOCKED: [string, string][] = [
  // IPv4
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["100.64.0.1", "cgnat"],
  ["100.127.255.255", "cgnat"],
  ["100.100.100.200", "cgnat"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["169.254.169.254", "metadata"],
  ["169.254.0.1", "link-local"],
  ["169.254.170.2", "link-local"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.0.0.1", "reserved"],
  ["192.0.0.192", "reserved"],
  ["192.0.2.1", "documentation"],
  ["192.88.99.1", "reserved"],
  ["192.168.0.1", "private"],
  ["192.168.255.255", "private"],
  ["198.18.0.1", "benchmark"],
  ["198.19.255.255", "benchmark"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.254", "reserved"],
  ["255.255.255.255", "broadcast"],
  // IPv6
  ["::", "unspecified"],
  ["0:0:0:0:0:0:0:0", "unspecified"],
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["[::1]", "loopback"],
  ["fc00::1", "unique-local"],
  ["fd12:3456:789a::1", "unique-local"],
  ["fd00:ec2::254", "metadata"],
  ["FD00:EC2:0:0:0:0:0:254", "metadata"],
  ["fe80::1", "link-local"],
  ["febf:ffff::1", "link-local"],
  ["fec0::1", "site-local"],
  ["ff02::1", "multicast"],
  ["ff05::1:3", "multicast"],
  ["2001:db8::1", "documentation"],
  ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "documentation"],
  ["3fff::1", "documentation"],
  ["2001:2::1", "benchmark"],
  ["2001::1", "teredo"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"],
  ["2001:10::1", "reserved"],
  ["::ffff:127.0.0.1", "ipv4-mapped loopback"],
  ["::ffff:7f00:1", "ipv4-mapped loopback"],
  ["::ffff:10.1.2.3", "ipv4-mapped private"],
  ["::ffff:a9fe:a9fe", "ipv4-mapped metadata"],
  ["0:0:0:0:0:ffff:192.168.1.1", "ipv4-mapped private"],
  ["::127.0.0.1", "ipv4-compatible loopback"],
  ["::8.8.8.8", "reserved"],
  ["64:ff9b::127.0.0.1", "nat64 loopback"],
  ["64:ff9b::a9fe:a9fe", "nat64 metadata"],
  ["64:ff9b::10.0.0.1", "nat64 private"],
  ["64:ff9b:1::10.0.0.1", "nat64 private"],
  ["64:ff9b:1:7f00:1:0:0:0", "nat64 loopback"],
  ["64:ff9b:1:ffff::1", "nat64"],
  ["2002:7f00:1::1", "6to4 loopback"],
  ["2002:c0a8:101::1", "6to4 private"],
  ["2002:a9fe:a9fe::", "6to4 metadata"],
  ["100::1", "reserved"],
  ["4000::1", "reserved"],
  // Zone ids never name a public address.
  ["fe80::1%eth0", "link-local"],
  ["2606:4700:4700::1111%eth0", "scoped"],
  // Not an IP address at all.
  ["", "invalid"],
  ["example.com", "invalid"],
  ["1.2.3", "invalid"],
  ["256.1.1.1", "invalid"],
  ["1::2::3", "invalid"],
  ["1:2:3:4:5:6:7:8:9", "invalid"],
  ["1:2:3:4:5:6:7::8", "invalid"],
  ["12345::1", "invalid"],
  ["::1.2.3.4:5", "invalid"],
];

const PUBLIC = [
  "1.1.1.1",
  "8.8.8.8",
  "93.184.215.14",
  "100.63.255.255",
  "100.128.0.0",
  "172.15.255.255",
  "172.32.0.0",
  "192.0.3.1",
  "192.169.0.1",
  "198.17.255.255",
  "198.20.0.0",
  "223.255.255.255",
  "2606:4700:4700::1111",
  "2001:4860:4860::8888",
  "2a00:1450:4001:80b::200e",
  "::ffff:8.8.8.8",
  "::ffff:101:101",
  "64:ff9b::8.8.8.8",
  "64:ff9b:1::1.1.1.1",
  "2002:808:808::1",
];

for (const [ip, reason] of BLOCKED) {
  Deno.test(`isBlockedAddress() refuses ${JSON.stringify(ip)} as ${reason}`, () => {
    assert.equal(isBlockedAddress(ip), reason);
  });
}

Deno.test("isBlockedAddress() lets public IPv4 and IPv6 addresses through", () => {
  for (const ip of PUBLIC) assert.equal(isBlockedAddress(ip), null, ip);
});

Deno.test("URL parsing turns decimal, octal and hex IPv4 forms into a refused 127.0.0.1", async () => {
  for (
    const href of ["http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/"]
  ) {
    const url = new URL(href);
    assert.equal(url.hostname, "127.0.0.1", href);
    await assert.rejects(vetUrl(url, { allowPrivate: false }), BlockedAddressError, href);
  }
});

function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (hostname: string) => {
    calls.push(hostname);
    const answer = table[hostname];
    return answer ? Promise.resolve(answer) : Promise.reject(new Error("no such name"));
  };
  return Object.assign(resolve, { calls });
}

Deno.test("vetUrl() refuses local and metadata host names before any lookup", async () => {
  const resolve = fakeResolver({});
  for (
    const host of [
      "localhost",
      "LOCALHOST.",
      "app.localhost",
      "metadata",
      "metadata.google.internal",
      "db.internal",
      "printer.local",
      "router.home.arpa",
    ]
  ) {
    await assert.rejects(
      vetUrl(new URL(`http://${host}/`), { allowPrivate: false, resolve }),
      (error: unknown) => error instanceof BlockedAddressError && error.address === null,
      host,
    );
  }
  assert.deepEqual(resolve.calls, []);
});

Deno.test("vetUrl() allows anything with an http scheme when private targets are allowed", async () => {
  const resolve = fakeResolver({});
  for (const href of ["http://localhost:8000/", "https://10.0.0.1/", "http://printer.local/"]) {
    const target = await vetUrl(new URL(href), { allowPrivate: true, resolve });
    assert.deepEqual(target, { url: new URL(href), address: null });
  }
  assert.deepEqual(resolve.calls, []);
});

Deno.test("vetUrl() refuses schemes other than http and https", async () => {
  for (const href of ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/"]) {
    await assert.rejects(
      vetUrl(new URL(href), { allowPrivate: true }),
      (error: unknown) =>
        error instanceof BlockedAddressError && error.reason === "scheme" &&
        error.message.includes("is not allowed"),
    );
  }
});

Deno.test("vetUrl() explains a refused private address in a sentence-case message", async () => {
  await assert.rejects(vetUrl(new URL("http://10.0.0.1/"), { allowPrivate: false }), {
    name: "BlockedAddressError",
    message: 'Cannot connect to "http://10.0.0.1/": address 10.0.0.1 is private',
  });
});

Deno.test("vetUrl() checks IP literals without a lookup", async () => {
  const resolve = fakeResolver({});
  const v4 = await vetUrl(new URL("http://1.1.1.1/"), { allowPrivate: false, resolve });
  assert.equal(v4.address, "1.1.1.1");
  const v6 = await vetUrl(new URL("https://[2606:4700:4700::1111]/"), {
    allowPrivate: false,
    resolve,
  });
  assert.equal(v6.address, "2606:4700:4700::1111");
  await assert.rejects(
    vetUrl(new URL("http://[::ffff:7f00:1]/"), { allowPrivate: false, resolve }),
    BlockedAddressError,
  );
  await assert.rejects(
    vetUrl(new URL("http://[fd00:ec2::254]/"), { allowPrivate: false, resolve }),
    /is metadata$/,
  );
  assert.deepEqual(resolve.calls, []);
});

Deno.test("vetUrl() returns the first resolved address of a public name", async () => {
  const resolve = fakeResolver({ "example.com": ["93.184.215.14", "2606:2800:21f:cb07::1"] });
  const target = await vetUrl(new URL("https://example.com/a"), { allowPrivate: false, resolve });
  assert.equal(target.address, "93.184.215.14");
  assert.equal(target.url.href, "https://example.com/a");
});

Deno.test("vetUrl() refuses a name whose answer mixes public and private addresses", async () => {
  const resolve = fakeResolver({ "rebind.test": ["8.8.8.8", "10.0.0.5", "1.1.1.1"] });
  await assert.rejects(vetUrl(new URL("http://rebind.test/"), { allowPrivate: false, resolve }), {
    name: "BlockedAddressError",
    message: 'Cannot connect to "http://rebind.test/": address 10.0.0.5 is private',
  });
});

Deno.test("vetUrl() refuses a name with an IPv6 metadata address among its answers", async () => {
  const resolve = fakeResolver({ "mixed.test": ["2606:4700:4700::1111", "fd00:ec2::254"] });
  await assert.rejects(
    vetUrl(new URL("http://mixed.test/"), { allowPrivate: false, resolve }),
    /address fd00:ec2::254 is metadata/,
  );
});

Deno.test("vetUrl() reports a name that does not resolve as a DNS error", async () => {
  const resolve = fakeResolver({ "empty.test": [] });
  await assert.rejects(
    vetUrl(new URL("http://missing.test/"), { allowPrivate: false, resolve }),
    (error: unknown) =>
      error instanceof DnsError && error.name === "DnsError" &&
      error.message === 'Cannot resolve "missing.test": no such name',
  );
  await assert.rejects(
    vetUrl(new URL("http://empty.test/"), { allowPrivate: false, resolve }),
    DnsError,
  );
});

Deno.test("vetUrl() gives up on a hanging lookup when the signal aborts", async () => {
  const controller = new AbortController();
  const resolve: Resolver = () => new Promise(() => {});
  const pending = vetUrl(new URL("http://slow.test/"), {
    allowPrivate: false,
    resolve,
    signal: controller.signal,
  });
  controller.abort(new Error("deadline"));
  await assert.rejects(pending, /deadline/);
});

Deno.test("vetUrl() uses the isBlocked override instead of the built-in table", async () => {
  const resolve = fakeResolver({ "loop.test": ["127.0.0.1"] });
  const target = await vetUrl(new URL("http://loop.test/"), {
    allowPrivate: false,
    resolve,
    isBlocked: () => null,
  });
  assert.equal(target.address, "127.0.0.1");
});
