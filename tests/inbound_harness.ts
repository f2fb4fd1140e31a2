/**
 * Harness for the inbound webhook tests: the inbound module over an in-memory Deno KV (or an
 * empty Postgres database, `store: "postgres"`) with a manual clock, mounted in a small Hono app composed as `routes/app.ts` composes the real one
 * (error handler, `/api` body limit and bearer auth), driven in-process.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createApiKey } from "../lib/auth.ts";
import { ManualClock } from "../lib/clock.ts";
import { randomBytes, SecretBox } from "../lib/crypto.ts";
import { createInbound, type Inbound } from "../lib/inbound/feature.ts";
import type { HookView } from "../lib/inbound/types.ts";
import { probe, type ProbeOptions, type ProbeRequest, type ProbeResult } from "../lib/net/probe.ts";
import { KvStore } from "../lib/store/kv/kv_store.ts";
import { KvInboundStore } from "../lib/store/kv/inbound.ts";
import { KvLaneStore } from "../lib/store/kv/lanes.ts";
import type { Scope } from "../lib/store/types.ts";
import type { Store } from "../lib/store/store.ts";
import type { LaneStore } from "../lib/store/lanes.ts";
import { createPostgresStores } from "../lib/store/postgres/mod.ts";
import { emptyDatabase } from "./postgres_database.ts";
import { inboundHookRoutes } from "../routes/api/hooks.ts";
import { hookRoutes } from "../routes/hooks.ts";
import { type AuthEnv, bearerAuth } from "../routes/middleware/auth.ts";
import { bodyLimit, dropUnreadBody } from "../routes/middleware/body.ts";
import { errorBody, handleError } from "../routes/middleware/errors.ts";
import { type Answer, expectStatus, ROOT_KEY, type StoreKind, T0 } from "./helpers.ts";

export { ROOT_KEY, T0 };

export interface HarnessOptions {
  /** Deno KV in memory (the default), or an empty Postgres database. */
  store?: StoreKind;
  allowPrivateNetworks?: boolean;
  now?: number;
  /** Jobs that exist, by user: `run` actions may name only these. */
  jobs?: Record<string, string[]>;
  /** Fails a run with this error when set. */
  runError?: () => Error | null;
  retryScheduleMs?: number[];
  /** Retry jitter in [-1, 1); 0 unless a test sets it, so times are the schedule's own. */
  retryJitter?: () => number;
}

export interface RunCall {
  userId: string;
  jobId: string;
  payload: unknown;
  eventId: string;
}

export type CreatedHook = HookView & { url: string };

export class InboundHarness {
  readonly runs: RunCall[] = [];
  readonly relayed: ProbeRequest[] = [];

  private constructor(
    private readonly openKv: Deno.Kv | null,
    readonly clock: ManualClock,
    readonly inbound: Inbound,
    readonly app: Hono,
    readonly store: Store,
    private readonly lanes: LaneStore,
    private readonly close: () => Promise<void>,
  ) {}

  /** The Deno KV under the harness; one on Postgres has none. */
  get kv(): Deno.Kv {
    if (!this.openKv) throw new Error("Cannot read Deno KV keys: this harness runs on Postgres");
    return this.openKv;
  }

  static async start(options: HarnessOptions = {}): Promise<InboundHarness> {
    const clock = new ManualClock(options.now ?? T0);
    let kv: Deno.Kv | null = null;
    let store: Store;
    let inboundStore;
    let lanes: LaneStore;
    let close: () => Promise<void>;
    if (options.store === "postgres") {
      const db = await emptyDatabase();
      const stores = createPostgresStores(db.sql, { clock });
      ({ records: store, inbound: inboundStore, lanes } = stores);
      close = async () => await db[Symbol.asyncDispose]();
    } else {
      const opened = await Deno.openKv(":memory:");
      kv = opened;
      store = new KvStore(opened);
      inboundStore = new KvInboundStore(opened);
      lanes = new KvLaneStore(opened);
      close = () => Promise.resolve(opened.close());
    }
    const jobs = options.jobs ?? { default: ["job-1"] };
    let harness: InboundHarness | null = null;
    const inbound = createInbound({
      store: inboundStore,
      lanes,
      clock,
      box: new SecretBox(randomBytes(32)),
      maxConcurrency: 10,
      allowPrivateNetworks: options.allowPrivateNetworks ?? false,
      allowHttp: false,
      retryScheduleMs: options.retryScheduleMs,
      retryJitter: options.retryJitter ?? (() => 0),
      jobExists: (userId, jobId) => Promise.resolve(jobs[userId]?.includes(jobId) ?? false),
      runJob: (userId, jobId, { payload, eventId }) => {
        const error = options.runError?.();
        if (error) return Promise.reject(error);
        harness?.runs.push({ userId, jobId, payload, eventId });
        return Promise.resolve({ runId: `run-${harness?.runs.length}` });
      },
      send: (request: ProbeRequest, probeOptions: ProbeOptions): Promise<ProbeResult> => {
        harness?.relayed.push(request);
        return probe(request, probeOptions);
      },
    });

    const app = new Hono();
    app.onError(handleError);
    app.use("*", dropUnreadBody());
    app.notFound((c) =>
      c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), 404)
    );
    app.route("/hooks", hookRoutes({ inboundReceiver: inbound.receiver }));
    const api = new Hono<AuthEnv>();
    api.use("*", bearerAuth({ store, rootApiKey: ROOT_KEY }));
    api.use("*", bodyLimit({ maxBytes: 256 * 1024 }));
    api.route("/hooks", inboundHookRoutes({ inbound: inbound.hooks }));
    app.route("/api", api);

    harness = new InboundHarness(kv, clock, inbound, app, store, lanes, close);
    return harness;
  }

  /** Calls the management API and parses the JSON envelope. */
  async call<T = unknown>(
    method: string,
    path: string,
    options: { key?: string | null; body?: unknown } = {},
  ): Promise<Answer<T>> {
    const headers = new Headers();
    const key = options.key === undefined ? ROOT_KEY : options.key;
    if (key !== null) headers.set("Authorization", `Bearer ${key}`);
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers.set("Content-Type", "application/json");
    }
    const response = await this.app.request(path, { method, headers, body });
    const text = await response.text();
    try {
      return { status: response.status, headers: response.headers, body: JSON.parse(text) };
    } catch {
      throw new assert.AssertionError({
        message: `${method} ${path} answered ${response.status} with non-JSON: ${text}`,
      });
    }
  }

  /** Creates a hook through the API and returns it as the creation answer showed it. */
  async createHook(fields: Record<string, unknown>, key = ROOT_KEY): Promise<CreatedHook> {
    const answer = await this.call<CreatedHook>("POST", "/api/hooks", {
      key,
      body: { name: "test hook", ...fields },
    });
    expectStatus(answer, 201);
    return answer.body.data;
  }

  /** Sends to the public endpoint, as a provider would. */
  send(
    hook: { id: string } | string,
    body: string | Uint8Array | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const id = typeof hook === "string" ? hook : hook.id;
    return Promise.resolve(this.app.request(`/hooks/${id}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: body as BodyInit,
    }));
  }

  async mintKey(userId: string, scopes: Scope[]): Promise<string> {
    const { key } = await createApiKey(this.store, { userId, name: "test", scopes }, T0);
    return key;
  }

  /** Waits until every due action has run and been recorded. */
  async settle(): Promise<void> {
    const deadline = performance.now() + 5000;
    const { lane } = this.inbound;
    do {
      await lane.drain();
      while (lane.active > 0) {
        if (performance.now() > deadline) throw new Error("Actions did not finish within 5 s");
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      // A finished action may have made the next one due (a retry at the same instant).
    } while (await this.dueNow());
  }

  private async dueNow(): Promise<boolean> {
    if (!this.openKv) return (await this.lanes.countDue("inbound", this.clock.now(), 1)) > 0;
    const prefix = ["inbound_due"];
    const iter = this.kv.list({ start: prefix, end: [...prefix, this.clock.now() + 1] }, {
      limit: 1,
    });
    for await (const _ of iter) return true;
    return false;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.settle();
    } finally {
      await this.close();
    }
  }
}
