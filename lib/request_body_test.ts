import assert from "node:assert/strict";
import { PayloadTooLargeError, RequestAbortedError } from "./errors.ts";
import { readCapped, readHead } from "./request_body.ts";

const encoder = new TextEncoder();

Deno.test("readCapped() returns the body up to the limit and refuses one byte more", async () => {
  const at = (body: string, headers: Record<string, string> = {}) =>
    new Request("http://x/", { method: "POST", body, headers });
  assert.deepEqual(await readCapped(at("12345"), 5), encoder.encode("12345"));
  await assert.rejects(readCapped(at("123456"), 5), PayloadTooLargeError);
  // A false small Content-Length does not let more through.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("123"));
      controller.enqueue(encoder.encode("456"));
      controller.close();
    },
  });
  const chunked = new Request("http://x/", { method: "POST", body: stream });
  await assert.rejects(readCapped(chunked, 5), PayloadTooLargeError);
  assert.deepEqual(
    await readCapped(new Request("http://x/", { method: "POST" }), 5),
    new Uint8Array(),
  );
});

Deno.test("readCapped() leaves the rest of a refused body unread and unlocked", async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  const request = new Request("http://x/", { method: "POST", body: endless });
  await assert.rejects(readCapped(request, 4096), PayloadTooLargeError);
  assert.ok(pulled <= 6, `pulled ${pulled} KiB`);
  assert.equal(endless.locked, false);
});

Deno.test("readCapped() reports a body that breaks off as the client hanging up", async () => {
  const broken = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("{"));
      controller.error(new Deno.errors.BadResource("Cannot read request body"));
    },
  });
  const request = new Request("http://x/", { method: "POST", body: broken });
  await assert.rejects(readCapped(request, 4096), RequestAbortedError);
});

Deno.test("readHead() keeps the first bytes of a body and leaves an endless rest unread", async () => {
  const at = (body: string) => new Request("http://x/", { method: "POST", body });
  assert.deepEqual(await readHead(at("12345"), 5), {
    bytes: encoder.encode("12345"),
    truncated: false,
  });
  assert.deepEqual(await readHead(at("123456"), 5), {
    bytes: encoder.encode("12345"),
    truncated: true,
  });
  assert.deepEqual(await readHead(new Request("http://x/"), 5), {
    bytes: new Uint8Array(),
    truncated: false,
  });
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024).fill(65));
    },
  });
  const head = await readHead(new Request("http://x/", { method: "POST", body: endless }), 10_240);
  assert.equal(head.bytes.length, 10_240);
  assert.equal(head.truncated, true);
  assert.ok(pulled <= 13, `pulled ${pulled} KiB`);
  assert.equal(endless.locked, false);
});
