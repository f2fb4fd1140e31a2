/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The webhook benchmark's receiver, in its own thread: answers 200 at once and notes, per
 * delivery id, when it arrived and how long after its run finished (`result.finishedAt`).
 */

const seen = new Map<string, number>();
let total = 0;
const lags: number[] = [];

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const at = Date.now();
  const body = await req.text();
  total++;
  const id = req.headers.get("x-webhook-id") ?? "";
  if (!seen.has(id)) {
    seen.set(id, at);
    try {
      const finished = Date.parse(JSON.parse(body).result.finishedAt);
      if (!Number.isNaN(finished)) lags.push(at - finished);
    } catch {
      // not a payload
    }
  }
  return new Response("ok");
});

self.postMessage({ type: "ready", port: server.addr.port });

self.onmessage = async (e: MessageEvent<{ type: string }>) => {
  if (e.data.type === "stats") {
    self.postMessage({ type: "stats", total, distinct: seen.size, lags });
  } else if (e.data.type === "reset") {
    lags.length = 0;
    self.postMessage({ type: "reset" });
  } else if (e.data.type === "close") {
    await server.shutdown();
    self.postMessage({ type: "closed" });
  }
};
