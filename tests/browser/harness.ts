/**
 * Browser tests' harness: a whole Hibiki on a temporary KV file, served on 127.0.0.1 with a
 * real clock, and headless Chromium driven by playwright-core. Chromium comes from the Debian
 * package (`apt-get install chromium`; `.ci/run` installs it): without it these tests fail
 * with a message saying so, they never skip.
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { parseConfig } from "../../lib/config.ts";
import type { JobView } from "../../lib/store/types.ts";
import { createSystem, type System, type SystemOptions } from "../../system.ts";
import { kvStores } from "../../lib/store/kv/mod.ts";

import { CHROMIUM } from "./chromium.ts";

export { CHROMIUM };
export const ADMIN_PASSWORD = "browser-test-password-1";
/** The root API key: set-up that is not what a step shows goes through the API with it. */
const ROOT_KEY = "browser-test-root-key-0123456789";

export class BrowserHarness {
  private constructor(
    readonly system: System,
    readonly kv: Deno.Kv,
    readonly server: Deno.HttpServer<Deno.NetAddr>,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly problems: string[],
    private readonly dirs: string[],
  ) {}

  get origin(): string {
    return `http://127.0.0.1:${this.server.addr.port}`;
  }

  /** Creates a job over HTTP with the root key, as a script beside the browser would. */
  async createJob(fields: Record<string, unknown>): Promise<JobView> {
    return await this.api<JobView>("POST", "/api/jobs", fields);
  }

  /** Calls the API with the root key; an error answer throws with the answer in the message. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${ROOT_KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    }
    return answer.data;
  }

  /** Signs in through the sign-in page as the operator. */
  async signIn(): Promise<void> {
    await this.page.goto(`${this.origin}/admin/login`);
    await this.page.getByLabel("User").fill("default");
    await this.page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await this.page.getByRole("button", { name: "Sign in" }).click();
    await this.page.waitForURL(`${this.origin}/admin`);
  }

  /**
   * `env` adds configuration (e.g. HIBIKI_GCP_RUN_URL of a fake Google); `timezoneId` is the
   * browser's zone (default: the machine's).
   */
  static async start(
    options: { env?: Record<string, string>; system?: SystemOptions; timezoneId?: string } = {},
  ): Promise<BrowserHarness> {
    try {
      await Deno.stat(CHROMIUM);
    } catch {
      throw new Error(
        `Cannot run the browser tests: ${CHROMIUM} is missing. ` +
          "Install it (apt-get install chromium fonts-noto-cjk) or set CHROMIUM_PATH to a Chrome",
      );
    }
    const dataDir = await Deno.makeTempDir({ prefix: "hibiki-browser-" });
    const profile = await Deno.makeTempDir({ prefix: "hibiki-chromium-" });
    const kv = await Deno.openKv(`${dataDir}/hibiki.kv`);
    const system = createSystem(
      kvStores(kv),
      parseConfig({
        HIBIKI_KV_PATH: `${dataDir}/hibiki.kv`,
        HIBIKI_ADMIN_PASSWORD: ADMIN_PASSWORD,
        HIBIKI_API_KEY: ROOT_KEY,
        HIBIKI_ALLOW_PRIVATE_NETWORKS: "1",
        ...options.env,
      }),
      // Hashing strength is tested in lib/users/password_test.ts; here speed matters.
      { queueWakeups: false, passwordIterations: 1000, ...options.system },
    );
    await system.start();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      system.app.fetch,
    );
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 860 },
      locale: "en-US",
      timezoneId: options.timezoneId,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = context.pages()[0] ?? await context.newPage();
    const problems: string[] = [];
    // Any script run by an injected name, any CSP violation, any script error fails the test.
    page.on("dialog", (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && !/status of (4|5)\d\d/.test(message.text())) {
        problems.push(`console: ${message.text()}`);
      }
    });
    return new BrowserHarness(system, kv, server, context, page, problems, [dataDir, profile]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.context.close().catch(() => {});
    await this.server.shutdown();
    await this.system.stop();
    this.kv.close();
    for (const dir of this.dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A local HTTP server for jobs and webhooks to call; `status` may change during a test. */
export function localTarget(handler: (request: Request) => Response | Promise<Response>) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
}
