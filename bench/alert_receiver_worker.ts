/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The alerts benchmark's channel receiver, in its own thread: answers 200 at once and notes,
 * per job named in a message, when it was first told of; counts messages and ids seen twice.
 */

const arrivals = new Map<string, number>();
const ids = new Set<string>();
let messages = 0;
let repeats = 0;
let grouped = 0;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const at = Date.now();
  const body = await req.json() as { type: string; jobs: { id: string }[] };
  messages++;
  const id = req.headers.get("webhook-id") ?? "";
  if (ids.has(id)) repeats++;
  ids.add(id);
  if (body.type === "incidents.grouped") grouped++;
  for (const job of body.jobs) if (!arrivals.has(job.id)) arrivals.set(job.id, at);
  return new Response("ok");
});

self.postMessage({ type: "ready", port: server.addr.port });

self.onmessage = async (e: MessageEvent<{ type: string }>) => {
  if (e.data.type === "counts") {
    self.postMessage({ type: "counts", messages, grouped, repeats, jobs: arrivals.size });
  } else if (e.data.type === "arrivals") {
    self.postMessage({ type: "arrivals", arrivals: Object.fromEntries(arrivals) });
  } else if (e.data.type === "close") {
    await server.shutdown();
    self.postMessage({ type: "closed" });
  }
};
