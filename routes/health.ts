/** `/healthz` and `/metrics`: unauthenticated, cheap, and safe to poll. */
import { Hono } from "hono";
import type { Clock } from "../lib/clock.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Store } from "../lib/store/store.ts";

/** A dispatcher that has not drained for this long is stuck. */
const DISPATCHER_STALE_MS = 10_000;
const DEPTH_COUNT_LIMIT = 100_000;

export interface HealthDeps {
  store: Store;
  /** The fire lane: its runs in flight, its last drain and the fires waiting in it. */
  dispatcher: {
    readonly active: number;
    readonly lastDrainAt: number;
    countDue(limit: number): Promise<number>;
  };
  metrics: Metrics;
  clock: Clock;
  /** True while the Deno KV queue listener runs. */
  queueListening: () => boolean;
  inboundMetrics: { render(): string };
  /** Incidents open now across every owner: one counter read at scrape. */
  openIncidents?: () => Promise<number>;
}

export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const checks = {
      store: await deps.store.ping().then(() => "ok", (e) => `error: ${(e as Error).message}`),
      queue: deps.queueListening() ? "ok" : "error: queue listener stopped",
      dispatcher: deps.clock.now() - deps.dispatcher.lastDrainAt <= DISPATCHER_STALE_MS
        ? "ok"
        : "error: dispatcher has not run for over 10 s",
    };
    const healthy = Object.values(checks).every((v) => v === "ok");
    return c.json({ status: healthy ? "ok" : "error", checks }, healthy ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    const [pendingFires, openIncidents] = await Promise.all([
      deps.dispatcher.countDue(DEPTH_COUNT_LIMIT),
      deps.openIncidents?.(),
    ]);
    const text = deps.metrics.render({
      pendingFires,
      inFlight: deps.dispatcher.active,
      openIncidents,
    }) +
      deps.inboundMetrics.render();
    return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  return app;
}
