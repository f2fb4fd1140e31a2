/**
 * A raw TCP server on 127.0.0.1 for the HTTP client's tests: it reads each request off the
 * connection and answers with whatever bytes a test writes, so framing, keep-alive and broken
 * answers can be tested as they arrive on the wire.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface RawRequest {
  head: string;
  body: Uint8Array;
}

/** Reads requests off one connection: head, then a Content-Length body. */
export class RequestReader {
  private buffer = new Uint8Array(0);

  constructor(private readonly conn: Deno.Conn) {}

  async next(): Promise<RawRequest | null> {
    for (;;) {
      const text = decoder.decode(this.buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const headBytes = encoder.encode(text.slice(0, end + 4)).length;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (this.buffer.length >= headBytes + length) {
          const request = {
            head: text.slice(0, end),
            body: this.buffer.slice(headBytes, headBytes + length),
          };
          this.buffer = this.buffer.slice(headBytes + length);
          return request;
        }
      }
      const chunk = new Uint8Array(65536);
      const n = await this.conn.read(chunk).catch(() => null);
      if (n === null) return null;
      const grown = new Uint8Array(this.buffer.length + n);
      grown.set(this.buffer);
      grown.set(chunk.subarray(0, n), this.buffer.length);
      this.buffer = grown;
    }
  }
}

export type Answer = (
  request: RawRequest,
  conn: Deno.Conn,
  index: number,
) => Promise<"keep" | "close">;

/** A TCP server on 127.0.0.1 that answers with whatever bytes a test writes. */
export function rawServer(answer: Answer) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: RawRequest[] = [];
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      accepted++;
      conns.add(conn);
      (async () => {
        const reader = new RequestReader(conn);
        for (;;) {
          const request = await reader.next();
          if (!request) break;
          requests.push(request);
          const next = await answer(request, conn, requests.length - 1).catch(() => "close");
          if (next === "close") break;
        }
        conns.delete(conn);
        try {
          conn.close();
        } catch {
          // closed by the test
        }
      })();
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}/hook?x=1`,
    port,
    requests,
    accepted: () => accepted,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await serving.catch(() => {});
    },
  };
}

export async function write(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

export const ok = (body = "ok") =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
