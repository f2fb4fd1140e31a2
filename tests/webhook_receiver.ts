/**
 * A real webhook receiver on 127.0.0.1 that keeps every request byte for byte, and the seed
 * 003 verification code (its Node.js sample, ported as is) to check what it received.
 */
import crypto from "node:crypto";
import { Buffer } from "node:buffer";

export interface Received {
  /** Wall-clock epoch ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  headers: Headers;
  /** The body exactly as it came off the wire. */
  raw: Uint8Array;
  /** `raw` decoded as UTF-8, as the seed's `req.body.toString()` would. */
  text: string;
}

/** What the receiver answers: a response, or `"hang"` to never answer (until closed). */
export type Reply = Response | "hang";

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook` */
  url: string;
  origin: string;
  received: Received[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a receiver; `respond` sees each request (and its 0-based index) and picks the answer. */
export function startReceiver(
  respond: (request: Received, index: number) => Reply = () => new Response("OK"),
): Receiver {
  const received: Received[] = [];
  // Hanging handlers wait on this, so that closing the server does not wait for them forever.
  const { promise: closing, resolve: release } = Promise.withResolvers<void>();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const raw = new Uint8Array(await request.arrayBuffer());
      const entry: Received = {
        at: Date.now(),
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
        raw,
        text: new TextDecoder().decode(raw),
      };
      received.push(entry);
      const reply = respond(entry, received.length - 1);
      if (reply !== "hang") return reply;
      await closing;
      return new Response("too late", { status: 504 });
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  let closed: Promise<void> | null = null;
  const close = () => {
    release();
    closed ??= server.shutdown();
    return closed;
  };
  return { url: `${origin}/hook`, origin, received, close, [Symbol.asyncDispose]: close };
}

/** A port on 127.0.0.1 that nothing listens on (it was open a moment ago). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

// ---------------------------------------------------------------------------------------------
// Seed 003's Node.js sample, word for word apart from types and `Buffer`'s import.

export function verifyWebhookSignature(payload: string, signature: string, secret: string) {
  const hmac = crypto.createHmac("sha256", secret);
  hmac.update(payload);
  const expectedSignature = hmac.digest("hex");

  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expectedSignature),
  );
}

/** The seed's HMAC, but over the bytes received rather than their decoded text. */
export function hmacOfBytes(raw: Uint8Array, secret: string): string {
  return crypto.createHmac("sha256", secret).update(raw).digest("hex");
}

/** The received headers as a plain object, as `standardwebhooks` wants them. */
export function headerObject(headers: Headers): Record<string, string> {
  return Object.fromEntries(headers);
}
