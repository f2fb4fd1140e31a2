/**
 * Shared harness for the HTTP tests: a whole Hibiki system over an in-memory Deno KV (or a
 * fresh Postgres database, `store: "postgres"`), a manual clock, and a fake probe, driven
 * in-process through `system.app.request`. Nothing here touches the network or waits for
 * wall-clock time to pass, unless a test asks for the real HTTP clients (`realProbe: true`)
 * to reach servers of its own on 127.0.0.1. `storeTest` registers a test on both stores.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../lib/clock.ts";
import { parseConfig } from "../lib/config.ts";
import { probe, type ProbeRequest, type ProbeResult } from "../lib/net/probe.ts";
import { createSystem, type System } from "../system.ts";
import { kvStores } from "../lib/store/kv/mod.ts";
import { openKv } from "../lib/store/kv/open_kv.ts";
import { postgresStores, type Sql } from "../lib/store/postgres/mod.ts";
import type { StoreFactory } from "../lib/store/stores.ts";
import { emptyDatabase } from "./postgres_database.ts";
import type { ApiKey, JobView, Scope } from "../lib/store/types.ts";
import type { NotifySend } from "../lib/alerts/types.ts";
import type { MaintenanceCalendar } from "../lib/alerts/types.ts";

export const ROOT_KEY = "root-key-for-tests-0123456789";
/** Monday 2 March 2026, 12:00:00 UTC: a plain weekday, far from any DST change. */
export const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
}

/** The envelope every `/api` answer uses. */
export interface Envelope<T> {
  success: boolean;
  data: T;
  cursor?: string | null;
  error: ErrorBody;
}

export interface Answer<T> {
  status: number;
  headers: Headers;
  body: Envelope<T>;
}

export interface CallOptions {
  /** Bearer key; `null` sends no Authorization header. Defaults to the root key. */
  key?: string | null;
  /** Sent as JSON unless it is already a string (then sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Which store a test system runs on. */
export type StoreKind = "kv" | "postgres";

/**
 * Registers a test twice: as named on Deno KV, and "… (on Postgres)" on a fresh Postgres
 * database; the test passes `store` on to `TestSystem.start`.
 */
export function storeTest(name: string, fn: (store: StoreKind) => Promise<void>): void {
  Deno.test(name, () => fn("kv"));
  Deno.test(`${name} (on Postgres)`, () => fn("postgres"));
}

/**
 * A test that reads or writes Deno KV keys itself: it runs on Deno KV, and its Postgres twin
 * is listed as ignored with the reason in its name, so the gap shows in every run.
 */
export function kvOnlyTest(name: string, fn: () => Promise<void>): void {
  Deno.test(name, fn);
  Deno.test({
    name: `${name} (on Postgres: skipped, the test reads Deno KV keys directly)`,
    ignore: true,
    fn,
  });
}

export interface TestSystemOptions {
  /** Deno KV in memory (the default), or a fresh Postgres database of its own. */
  store?: StoreKind;
  /** Extra environment for `parseConfig`, e.g. `HIBIKI_ALLOW_PRIVATE_NETWORKS: "1"`. */
  env?: Record<string, string>;
  now?: number;
  /** Answers runs and deliveries; a promise lets a test hold a request in flight. */
  probe?: (request: ProbeRequest) => ProbeResult | Promise<ProbeResult>;
  /**
   * Send job runs and webhook deliveries for real (over HTTP, SSRF rules and all) instead of
   * answering them with `probe`. Requests are still recorded in `probed`.
   */
  realProbe?: boolean;
  /** Jitter of webhook retries in [-1, 1); `() => 0` makes retry times exact. */
  retryJitter?: () => number;
  /** Poll delays of Cloud Run executions (short in tests). */
  cloudRunPollDelays?: readonly number[];
  /** Answers notification channel sends; the real sender (over the network) when absent. */
  notify?: NotifySend;
  /** Maintenance windows alerting honours (none by default). */
  calendar?: MaintenanceCalendar;
  /** A Deno KV file instead of `:memory:` (two systems may share one, as two processes do). */
  kvPath?: string;
  /** On Postgres: another system's database (two systems share it, as two processes do). */
  sharing?: TestSystem;
  /** The master key (32 bytes); systems sharing a KV file need the same one. Random if absent. */
  masterKey?: Uint8Array;
}

/** A system under test. Dispose it (`await using`) to let runs finish and close the store. */
export class TestSystem {
  /** Every request the fake probe received, in order. */
  readonly probed: ProbeRequest[] = [];

  private constructor(
    readonly system: System,
    private readonly openKv: Deno.Kv | null,
    readonly clock: ManualClock,
    private readonly close: () => Promise<void>,
    /** The Postgres pool under the system; null on KV. */
    readonly sql: Sql | null,
  ) {}

  /** The Deno KV under the system; a Postgres system has none (see `kvOnlyTest`). */
  get kv(): Deno.Kv {
    if (!this.openKv) throw new Error("Cannot read Deno KV keys: this system runs on Postgres");
    return this.openKv;
  }

  static async start(options: TestSystemOptions = {}): Promise<TestSystem> {
    let stores: StoreFactory;
    let kv: Deno.Kv | null = null;
    let close: () => Promise<void>;
    let sql: Sql | null = null;
    if (options.store === "postgres") {
      if (options.kvPath) throw new Error("Cannot share a KV file on Postgres: omit kvPath");
      if (options.sharing) {
        if (!options.sharing.sql) throw new Error("Cannot share a database: that system is on KV");
        sql = options.sharing.sql;
        close = () => Promise.resolve();
      } else {
        const db = await emptyDatabase();
        sql = db.sql;
        close = async () => await db[Symbol.asyncDispose]();
      }
      stores = postgresStores(sql);
    } else {
      // A shared file is opened as main.ts opens it: writes that lose the file lock are retried.
      const opened = options.kvPath ? await openKv(options.kvPath) : await Deno.openKv(":memory:");
      kv = opened;
      stores = kvStores(opened);
      close = () => Promise.resolve(opened.close());
    }
    const config = parseConfig({
      HIBIKI_KV_PATH: ":memory:",
      HIBIKI_API_KEY: ROOT_KEY,
      // Notifications taken together are grouped without waiting; grouping tests set a window.
      HIBIKI_ALERT_GROUP_MS: "0",
      ...options.env,
    });
    const clock = new ManualClock(options.now ?? T0);
    const answer = options.probe ?? (() => okProbe());
    let harness: TestSystem | null = null;
    const system = createSystem(stores, config, {
      clock,
      queueWakeups: false,
      probe: (request, probeOptions) => {
        harness?.probed.push(request);
        if (options.realProbe) return probe(request, probeOptions);
        return Promise.resolve(answer(request));
      },
      post: (request, probeOptions) => {
        harness?.probed.push(request);
        if (options.realProbe) return probe(request, probeOptions);
        return Promise.resolve(answer(request));
      },
      retryJitter: options.retryJitter,
      cloudRunPollDelays: options.cloudRunPollDelays,
      notifySend: options.notify,
      calendar: options.calendar,
      masterKey: options.masterKey,
    });
    harness = new TestSystem(system, kv, clock, close, sql);
    return harness;
  }

  /** Sends one request to the app and parses the JSON answer. */
  call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
    return callApp<T>(this.system.app, method, path, options);
  }

  /** Creates a job through the API (as `key`, the root key by default) and returns it. */
  async createJob(fields: Record<string, unknown> = {}, key: string = ROOT_KEY): Promise<JobView> {
    const answer = await this.call<JobView>("POST", "/api/jobs", {
      key,
      body: { name: "Ping", url: "https://example.com/", schedule: "0 9 * * *", ...fields },
    });
    expectStatus(answer, 201);
    return answer.body.data;
  }

  /** Mints a key through the API with the root key; returns its text and record. */
  async createKey(scopes: Scope[], userId?: string): Promise<{ key: string; record: ApiKey }> {
    const answer = await this.call<ApiKey & { key: string }>("POST", "/api/keys", {
      body: { name: `test ${scopes.join(" ")}`, scopes, ...(userId ? { userId } : {}) },
    });
    expectStatus(answer, 201);
    const { key, ...record } = answer.body.data;
    return { key, record };
  }

  /** Waits until every due run and delivery has been executed and recorded. */
  async settle(): Promise<void> {
    const deadline = performance.now() + 2000;
    // A ping's decision follows its answer, and may queue notifications.
    await this.system.pings.settled();
    // A run may queue a delivery, so runs go first.
    const queues: { drain(): Promise<void>; readonly busy: number }[] = [
      this.system.lanes.fires,
      this.system.lanes.results,
      this.system.lanes.alerts,
      this.system.lanes.notifications,
      this.system.lanes.inbound,
      this.system.lanes.deliveries,
    ];
    for (const queue of queues) {
      await queue.drain();
      // Runs started ahead of their time wait for the test to move the clock there.
      while (queue.busy > 0) {
        if (performance.now() > deadline) throw new Error("Work did not finish within 2 s");
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.settle();
    } finally {
      await this.close();
    }
  }
}

/**
 * Sends one request to an app's `/api` in-process (as the root key unless told) and parses
 * the JSON envelope: for tests that run a system of their own rather than a `TestSystem`.
 */
export async function callApp<T = unknown>(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const headers = new Headers(options.headers);
  const key = options.key === undefined ? ROOT_KEY : options.key;
  if (key !== null) headers.set("Authorization", `Bearer ${key}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const response = await app.request(path, { method, headers, body });
  const text = await response.text();
  let parsed: Envelope<T>;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new assert.AssertionError({
      message: `${method} ${path} answered ${response.status} with non-JSON: ${text}`,
    });
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A successful 200 answer, as the real probe would report it. */
export function okProbe(): ProbeResult {
  return {
    success: true,
    code: 200,
    durationMs: 12,
    headers: { "content-type": "text/plain" },
    body: "ok",
    bodyTruncated: false,
    error: null,
    failure: null,
    finalUrl: "https://example.com/",
    redirects: 0,
  };
}

/** Asserts the status, showing the whole answer when it differs. */
export function expectStatus(answer: Answer<unknown>, status: number): void {
  assert.equal(
    answer.status,
    status,
    `expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`,
  );
}

/** Asserts an error answer: status, envelope, code and (when given) the field. */
export function expectError(
  answer: Answer<unknown>,
  status: number,
  code: string,
  field?: string | null,
): ErrorBody {
  expectStatus(answer, status);
  assert.equal(answer.body.success, false);
  assert.equal(answer.body.error.code, code);
  assert.equal(typeof answer.body.error.message, "string");
  assert.notEqual(answer.body.error.message, "");
  if (field !== undefined) assert.equal(answer.body.error.field, field ?? undefined);
  return answer.body.error;
}
