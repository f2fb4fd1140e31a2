/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A load generator in its own thread: sends `total` requests with `concurrency` in flight and
 * reports each request's latency, so the client does not share an event loop with the server.
 */

interface Job {
  url: string;
  /** When given, one URL per request, cycled (instead of `url`). */
  urls?: string[];
  method: string;
  headers: Record<string, string>;
  /** One body per request, cycled. */
  bodies: string[];
  total: number;
  concurrency: number;
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const job = e.data;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  const started = performance.now();
  const loop = async () => {
    while (sent < job.total) {
      const i = sent++;
      const t = performance.now();
      const response = await fetch(job.urls ? job.urls[i % job.urls.length] : job.url, {
        method: job.method,
        headers: job.headers,
        body: job.bodies[i % job.bodies.length],
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  self.postMessage({ latencies, statuses, elapsedMs: performance.now() - started });
};
