/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The webhook benchmark's receiver, in its own thread: answers 200 at once and notes when
 * each delivery id first arrived. It does not parse bodies (a receiver elsewhere would not
 * take this machine's CPU); the bench joins arrivals with the runs afterwards.
 */

const arrivals = new Map<string, number>();
let total = 0;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const at = Date.now();
  await req.body?.cancel();
  total++;
  const id = req.headers.get("x-webhook-id") ?? "";
  if (!arrivals.has(id)) arrivals.set(id, at);
  return new Response("ok");
});

self.postMessage({ type: "ready", port: server.addr.port });

self.onmessage = async (e: MessageEvent<{ type: string }>) => {
  if (e.data.type === "counts") {
    // Polled while deliveries flow: counts only, so polling costs neither thread anything.
    self.postMessage({ type: "counts", total, distinct: arrivals.size });
  } else if (e.data.type === "arrivals") {
    self.postMessage({ type: "arrivals", arrivals: Object.fromEntries(arrivals) });
  } else if (e.data.type === "reset") {
    arrivals.clear();
    total = 0;
    self.postMessage({ type: "reset" });
  } else if (e.data.type === "close") {
    await server.shutdown();
    self.postMessage({ type: "closed" });
  }
};
