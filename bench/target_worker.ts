/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The benchmark's target: answers every request with 200 "ok" at once and notes the arrival
 * time per job (`?j=<job id>`). Runs in a worker so it does not share the event loop of the
 * system under test.
 */

const hits = new Map<string, number[]>();
let total = 0;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
  const at = Date.now();
  total++;
  const url = req.url;
  const i = url.indexOf("?j=");
  const jobId = i < 0 ? "" : url.slice(i + 3);
  let list = hits.get(jobId);
  if (!list) hits.set(jobId, list = []);
  list.push(at);
  return new Response("ok");
});

self.postMessage({ type: "ready", port: server.addr.port });

self.onmessage = async (e: MessageEvent<{ type: string }>) => {
  switch (e.data.type) {
    case "hits":
      self.postMessage({ type: "hits", hits: Object.fromEntries(hits) });
      break;
    case "total":
      self.postMessage({ type: "total", total });
      break;
    case "close":
      await server.shutdown();
      self.postMessage({ type: "closed" });
      break;
  }
};
