/**
 * For the admin page tests: a Hibiki over an in-memory KV with an admin password, and a tiny
 * cookie-keeping client that reads CSRF tokens from the pages it gets, driven in-process.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../lib/clock.ts";
import { parseConfig } from "../lib/config.ts";
import type { JobView } from "../lib/store/types.ts";
import { createSystem, type System, type SystemOptions } from "../system.ts";
import { kvStores } from "../lib/store/kv/mod.ts";
import { okProbe, T0 } from "./helpers.ts";

export const PASSWORD = "a-long-admin-password";

export class AdminTestSystem {
  private constructor(readonly system: System, readonly kv: Deno.Kv, readonly clock: ManualClock) {}

  static async start(
    env: Record<string, string> = {},
    options: SystemOptions = {},
  ): Promise<AdminTestSystem> {
    const kv = await Deno.openKv(":memory:");
    const clock = new ManualClock(T0);
    const system = createSystem(
      kvStores(kv),
      parseConfig({ HIBIKI_KV_PATH: ":memory:", HIBIKI_ADMIN_PASSWORD: PASSWORD, ...env }),
      {
        clock,
        queueWakeups: false,
        probe: () => Promise.resolve(okProbe()),
        post: () => Promise.resolve(okProbe()),
        // Hashing strength is tested in lib/users/password_test.ts; here speed matters.
        passwordIterations: 1000,
        ...options,
      },
    );
    return new AdminTestSystem(system, kv, clock);
  }

  client(origin = "http://hibiki.test"): AdminClient {
    return new AdminClient(this.system, origin);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.system.stop();
    this.kv.close();
  }
}

export interface Page {
  status: number;
  headers: Headers;
  html: string;
  location: string | null;
}

export class AdminClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page read. */
  csrf = "";

  constructor(private readonly system: System, readonly origin: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return await this.send("GET", path, undefined, headers);
  }

  /** Posts a form with the current CSRF token unless `_csrf` is given. */
  async post(
    path: string,
    fields: Record<string, string | string[]> = {},
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const form = new URLSearchParams();
    if (!("_csrf" in fields)) form.set("_csrf", this.csrf);
    for (const [name, value] of Object.entries(fields)) {
      for (const v of [value].flat()) form.append(name, v);
    }
    return await this.send("POST", path, form.toString(), {
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    });
  }

  async signIn(user = "default", password = PASSWORD): Promise<Page> {
    await this.get("/admin/login");
    return await this.post("/admin/login", { user, password });
  }

  /**
   * Calls the JSON API as the pages' islands do: with the session cookie and, for a change,
   * the CSRF token of the last page read (so read a page after signing in). Returns the
   * envelope's `data`; an error answer fails the test with the answer in the message.
   */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.send(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      { "content-type": "application/json", "x-csrf-token": this.csrf },
    );
    const envelope = JSON.parse(answer.html) as { success: boolean; data: T };
    assert.ok(envelope.success, `${method} ${path} answered ${answer.status}: ${answer.html}`);
    return envelope.data;
  }

  /** Creates a job through the API as the signed-in user. */
  async createJob(fields: Record<string, unknown>): Promise<JobView> {
    return await this.api<JobView>("POST", "/api/jobs", fields);
  }

  async send(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await this.system.app.request(new URL(path, this.origin).href, {
      method,
      body,
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await response.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(html);
    if (token) this.csrf = token[1];
    return {
      status: response.status,
      headers: response.headers,
      html,
      location: response.headers.get("location"),
    };
  }
}

export function expectRedirect(page: Page, to: string | RegExp): void {
  assert.ok(page.status === 302 || page.status === 303, `expected a redirect, got ${page.status}`);
  if (typeof to === "string") assert.equal(page.location, to);
  else assert.match(page.location ?? "", to);
}
