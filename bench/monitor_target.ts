/**
 * The `monitors` benchmark's target, in a process of its own (so the Hibiki server's CPU
 * figures hold none of its work): `Deno.serve` on 127.0.0.1:$PORT answering every request
 * 200 "ok" at once (keep-alive, as Deno.serve does by default).
 *
 * - `/m/<n>`: a monitor's check; its arrival time is noted per path.
 * - `/channel`: the one notification channel's webhook; messages are counted (all monitors
 *   stay up, so none is expected).
 * - `GET /__arrivals`: `{ arrivals: { "/m/<n>": [ms, …] }, channelMessages }`.
 * - `GET /__health`: 200, for the bench to wait on.
 *
 * Arrival times are `performance.timeOrigin + performance.now()`: epoch milliseconds (to set
 * beside the schedule's fire times) with microsecond resolution, and monotonic, so a gap
 * between two checks is not bent by a wall-clock step. Date.now() would round each arrival to
 * the millisecond, a visible share of a 10 ms p99 target.
 */

const arrivals = new Map<string, number[]>();
let channelMessages = 0;

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen() {} },
  async (req) => {
    const at = performance.timeOrigin + performance.now();
    const path = new URL(req.url).pathname;
    if (path.startsWith("/m/")) {
      let list = arrivals.get(path);
      if (!list) arrivals.set(path, list = []);
      list.push(at);
      return new Response("ok");
    }
    if (path === "/channel") {
      await req.body?.cancel();
      channelMessages++;
      return new Response("ok");
    }
    if (path === "/__arrivals") {
      return Response.json({ arrivals: Object.fromEntries(arrivals), channelMessages });
    }
    if (path === "/__health") return new Response("ok");
    return new Response("not found", { status: 404 });
  },
);
