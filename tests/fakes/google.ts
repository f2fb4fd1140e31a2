/**
 * A fake of Google's OAuth token endpoint and the Cloud Run Admin API v2 on 127.0.0.1, strict
 * where Google is strict: it verifies assertion signatures against the registered public key,
 * checks the claims and the grant type, accepts only tokens it issued (and has not revoked or
 * let expire), and validates the shape of `jobs:run` bodies. Executions finish after a set
 * number of reads, so tests poll without sleeping.
 */
import { type Clock, systemClock } from "../../lib/clock.ts";
import { randomBytes } from "../../lib/crypto.ts";

export const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Google tolerates this much clock difference on `iat`. */
const SKEW_S = 60;

export interface EnvVar {
  name: string;
  value: string;
}

export interface FakeJob {
  project: string;
  region: string;
  job: string;
  /** Env of the job's container as deployed; run overrides replace same-named entries. */
  env?: EnvVar[];
  taskCount?: number;
  /** Reads (GET) of an execution before it reports completion; default 2. */
  pollsToComplete?: number;
  outcome?: "succeed" | "fail";
}

/** A canned answer for the next request to a route, or "hang" (run: accept, then never answer). */
export type Scripted =
  | { status: number; message?: string; googleStatus?: string; retryAfter?: string }
  | "hang";

export type Route = "token" | "run" | "get" | "list";

export interface FakeExecution {
  name: string;
  jobKey: string;
  createTime: string;
  env: EnvVar[];
  args: string[];
  taskCount: number;
  timeout: string | null;
  reads: number;
  pollsToComplete: number;
  outcome: "succeed" | "fail";
}

interface Account {
  publicKey: CryptoKey;
  privateKeyId: string;
}

export interface FakeGoogleOptions {
  /** Used for `iat`/`exp` checks, token expiry and `createTime`; default the system clock. */
  clock?: Clock;
  /** `expires_in` of issued tokens, seconds; default 3600. */
  tokenExpiresIn?: number;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** Google's error body: `{ error: { code, message, status } }`. */
function googleError(
  status: number,
  message: string,
  googleStatus?: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, {
    error: { code: status, message, status: googleStatus ?? STATUS_NAMES[status] ?? "UNKNOWN" },
  }, headers);
}

function oauthError(error: string, description: string, status = 400): Response {
  return json(status, { error, error_description: description });
}

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(
      new TextDecoder().decode(Uint8Array.fromBase64(part, { alphabet: "base64url" })),
    );
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns why a jobs:run body is not what Cloud Run v2 accepts, or null. */
export function runBodyProblem(body: unknown): string | null {
  if (!isRecord(body)) return "body must be a JSON object";
  for (const key of Object.keys(body)) {
    if (!["overrides", "validateOnly", "etag"].includes(key)) {
      return `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`;
    }
  }
  if (body.overrides === undefined) return null;
  const overrides = body.overrides;
  if (!isRecord(overrides)) return "overrides must be an object";
  for (const key of Object.keys(overrides)) {
    if (!["containerOverrides", "taskCount", "timeout"].includes(key)) {
      return `Invalid JSON payload received. Unknown name "${key}" at 'overrides': Cannot find field.`;
    }
  }
  if (overrides.taskCount !== undefined) {
    if (!Number.isInteger(overrides.taskCount) || (overrides.taskCount as number) < 1) {
      return "overrides.taskCount must be a positive integer";
    }
  }
  if (overrides.timeout !== undefined) {
    if (typeof overrides.timeout !== "string" || !/^\d+(\.\d{1,9})?s$/.test(overrides.timeout)) {
      return "Invalid value at 'overrides.timeout' (type.googleapis.com/google.protobuf.Duration)";
    }
  }
  if (overrides.containerOverrides !== undefined) {
    if (!Array.isArray(overrides.containerOverrides)) return "containerOverrides must be a list";
    for (const container of overrides.containerOverrides) {
      if (!isRecord(container)) return "containerOverrides[] must be objects";
      for (const key of Object.keys(container)) {
        if (!["name", "args", "env", "clearArgs"].includes(key)) {
          return `Invalid JSON payload received. Unknown name "${key}" at 'overrides.container_overrides[0]'`;
        }
      }
      if (container.args !== undefined) {
        if (!Array.isArray(container.args) || container.args.some((a) => typeof a !== "string")) {
          return "containerOverrides[].args must be a list of strings";
        }
      }
      if (container.env !== undefined) {
        if (!Array.isArray(container.env)) return "containerOverrides[].env must be a list";
        for (const item of container.env) {
          if (
            !isRecord(item) || typeof item.name !== "string" || item.name === "" ||
            typeof item.value !== "string" ||
            Object.keys(item).some((k) => k !== "name" && k !== "value")
          ) {
            return "containerOverrides[].env items must be {name, value} strings";
          }
        }
      }
    }
  }
  return null;
}

export class FakeGoogle {
  readonly clock: Clock;
  tokenExpiresIn: number;
  /** Token requests received, valid or not. */
  tokenRequests = 0;
  /** jobs:run requests received, valid or not. */
  runRequests = 0;
  /** Executions created, oldest first. */
  readonly executions: FakeExecution[] = [];
  /** Parsed bodies of accepted jobs:run requests. */
  readonly runBodies: unknown[] = [];
  /** The last token request's refusal, as Google's `error_description`. */
  lastTokenError: string | null = null;

  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #accounts = new Map<string, Account>();
  readonly #tokens = new Map<string, number>();
  readonly #jobs = new Map<string, FakeJob>();
  readonly #scripts = new Map<Route, Scripted[]>();
  readonly #closing = Promise.withResolvers<void>();

  private constructor(options: FakeGoogleOptions) {
    this.clock = options.clock ?? systemClock;
    this.tokenExpiresIn = options.tokenExpiresIn ?? 3600;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
  }

  static start(options: FakeGoogleOptions = {}): FakeGoogle {
    return new FakeGoogle(options);
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  get tokenUrl(): string {
    return `${this.origin}/token`;
  }

  /** Trusts `publicKey` for assertions from `clientEmail` signed with key `privateKeyId`. */
  registerAccount(clientEmail: string, privateKeyId: string, publicKey: CryptoKey): void {
    this.#accounts.set(clientEmail, { publicKey, privateKeyId });
  }

  addJob(job: FakeJob): void {
    this.#jobs.set(`projects/${job.project}/locations/${job.region}/jobs/${job.job}`, job);
  }

  /** The next request to `route` gets `answer` instead of the normal behaviour. */
  script(route: Route, answer: Scripted): void {
    const queue = this.#scripts.get(route) ?? [];
    queue.push(answer);
    this.#scripts.set(route, queue);
  }

  /** Every issued token stops working (as if revoked); new ones can be fetched. */
  revokeTokens(): void {
    this.#tokens.clear();
  }

  get issuedTokens(): number {
    return this.#tokens.size;
  }

  async close(): Promise<void> {
    this.#closing.resolve();
    await this.#server.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #scripted(route: Route): Scripted | undefined {
    return this.#scripts.get(route)?.shift();
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/token" && request.method === "POST") return await this.#token(request);
    const run = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:]+):run$/.exec(url.pathname);
    const list = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)\/executions$/.exec(
      url.pathname,
    );
    const get = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+\/executions\/[^/]+)$/
      .exec(url.pathname);
    if (!run && !list && !get) return googleError(404, `No route ${url.pathname}`);
    if (run) this.runRequests++;
    const refusal = this.#checkBearer(request);
    if (refusal) return refusal;
    if (run && request.method === "POST") return await this.#run(request, run[1]);
    if (list && request.method === "GET") return this.#list(url, list[1]);
    if (get && request.method === "GET") return this.#get(get[1]);
    return googleError(405, "Method not allowed");
  }

  #checkBearer(request: Request): Response | null {
    const match = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
    const expiresAt = match ? this.#tokens.get(match[1]) : undefined;
    if (expiresAt === undefined || this.clock.now() >= expiresAt) {
      return googleError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login " +
          "cookie or other valid authentication credential.",
      );
    }
    return null;
  }

  async #token(request: Request): Promise<Response> {
    this.tokenRequests++;
    const refuse = (error: string, description: string) => {
      this.lastTokenError = description;
      return oauthError(error, description);
    };
    const script = this.#scripted("token");
    if (script !== undefined && script !== "hang") {
      return oauthError(
        script.googleStatus ?? "internal_failure",
        script.message ?? "",
        script.status,
      );
    }
    if (!request.headers.get("content-type")?.startsWith("application/x-www-form-urlencoded")) {
      return refuse("invalid_request", "Bad Request");
    }
    const form = new URLSearchParams(await request.text());
    if (form.get("grant_type") !== JWT_BEARER) {
      return refuse(
        "unsupported_grant_type",
        `Invalid grant_type: ${form.get("grant_type") ?? ""}`,
      );
    }
    const parts = (form.get("assertion") ?? "").split(".");
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
      return refuse("invalid_grant", "Invalid JWT: not three base64url parts without padding");
    }
    const header = decodePart(parts[0]);
    const claims = decodePart(parts[1]);
    if (!header || !claims) return refuse("invalid_grant", "Invalid JWT: unreadable JSON");
    if (header.alg !== "RS256" || header.typ !== "JWT") {
      return refuse("invalid_grant", "Invalid JWT: algorithm must be RS256");
    }
    const account = typeof claims.iss === "string" ? this.#accounts.get(claims.iss) : undefined;
    if (!account) return refuse("invalid_grant", "Invalid grant: account not found");
    if (header.kid !== account.privateKeyId) {
      return refuse("invalid_grant", "Invalid JWT Signature.");
    }
    const valid = await crypto.subtle.verify(
      "RSASSA-PKCS1-v1_5",
      account.publicKey,
      Uint8Array.fromBase64(parts[2], { alphabet: "base64url" }) as BufferSource,
      new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
    );
    if (!valid) return refuse("invalid_grant", "Invalid JWT Signature.");
    if (claims.aud !== this.tokenUrl) {
      return refuse(
        "invalid_grant",
        `Invalid JWT: Failed audience check. The right audience is ${this.tokenUrl}`,
      );
    }
    if (typeof claims.scope !== "string" || !claims.scope.split(" ").includes(CLOUD_PLATFORM)) {
      return refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    }
    const now = Math.floor(this.clock.now() / 1000);
    const { iat, exp } = claims;
    if (
      typeof iat !== "number" || typeof exp !== "number" || exp <= iat || exp - iat > 3600 ||
      iat > now + SKEW_S || exp < now - SKEW_S
    ) {
      return refuse(
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable " +
          "timeframe. Check your iat and exp values in the JWT claim.",
      );
    }
    this.lastTokenError = null;
    const token = `ya29.fake-${randomBytes(16).toHex()}`;
    this.#tokens.set(token, this.clock.now() + this.tokenExpiresIn * 1000);
    return json(200, {
      access_token: token,
      expires_in: this.tokenExpiresIn,
      token_type: "Bearer",
    });
  }

  async #run(request: Request, jobKey: string): Promise<Response> {
    const script = this.#scripted("run");
    if (script !== undefined && script !== "hang") {
      return googleError(
        script.status,
        script.message ?? `HTTP ${script.status}`,
        script.googleStatus,
        script.retryAfter ? { "retry-after": script.retryAfter } : {},
      );
    }
    const job = this.#jobs.get(jobKey);
    if (!job) return googleError(404, `Resource '${jobKey}' was not found`);
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return googleError(400, "Invalid JSON payload received.");
    }
    const problem = runBodyProblem(body);
    if (problem) return googleError(400, problem);
    this.runBodies.push(body);

    const overrides = (body as { overrides?: Record<string, unknown> }).overrides ?? {};
    const container =
      (overrides.containerOverrides as { env?: EnvVar[]; args?: string[] }[] | undefined)?.[0] ??
        {};
    const env = new Map((job.env ?? []).map((e) => [e.name, e.value]));
    for (const e of container.env ?? []) env.set(e.name, e.value);
    const suffix = Array.from(randomBytes(5), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36])
      .join("");
    const execution: FakeExecution = {
      name: `${jobKey}/executions/${job.job}-${suffix}`,
      jobKey,
      createTime: new Date(this.clock.now()).toISOString(),
      env: [...env].map(([name, value]) => ({ name, value })),
      args: container.args ?? [],
      taskCount: (overrides.taskCount as number | undefined) ?? job.taskCount ?? 1,
      timeout: (overrides.timeout as string | undefined) ?? null,
      reads: 0,
      pollsToComplete: job.pollsToComplete ?? 2,
      outcome: job.outcome ?? "succeed",
    };
    this.executions.push(execution);
    const operation = {
      name: `${jobKey.replace(/\/jobs\/.*/, "")}/operations/${crypto.randomUUID()}`,
      metadata: {
        "@type": "type.googleapis.com/google.cloud.run.v2.Execution",
        ...this.#render(execution),
      },
      done: false,
    };
    if (script === "hang") {
      // Google took the run but the answer never arrives (until the fake shuts down).
      await this.#closing.promise;
    }
    return json(200, operation);
  }

  #get(name: string): Response {
    const script = this.#scripted("get");
    if (script !== undefined && script !== "hang") {
      return googleError(
        script.status,
        script.message ?? `HTTP ${script.status}`,
        script.googleStatus,
      );
    }
    const execution = this.executions.find((e) => e.name === name);
    if (!execution) return googleError(404, `Resource '${name}' was not found`);
    execution.reads++;
    return json(200, this.#render(execution));
  }

  #list(url: URL, jobKey: string): Response {
    const script = this.#scripted("list");
    if (script !== undefined && script !== "hang") {
      return googleError(
        script.status,
        script.message ?? `HTTP ${script.status}`,
        script.googleStatus,
      );
    }
    if (!this.#jobs.has(jobKey)) return googleError(404, `Resource '${jobKey}' was not found`);
    const all = this.executions.filter((e) => e.jobKey === jobKey).reverse();
    const size = Math.min(Number(url.searchParams.get("pageSize") ?? "100") || 100, 100);
    const start = Number(url.searchParams.get("pageToken") ?? "0");
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? { nextPageToken: String(start + size) } : {};
    return json(200, { executions: page.map((e) => this.#render(e)), ...next });
  }

  /** The execution as Cloud Run v2 returns it; zero counts are omitted as proto3 JSON does. */
  #render(e: FakeExecution): Record<string, unknown> {
    const [, project, , region, , job] = e.jobKey.split("/");
    const done = e.reads >= e.pollsToComplete;
    const failed = done && e.outcome === "fail";
    const counts: Record<string, number> = done
      ? (failed ? { failedCount: e.taskCount } : { succeededCount: e.taskCount })
      : { runningCount: e.taskCount };
    const completed = done
      ? failed
        ? {
          type: "Completed",
          state: "CONDITION_FAILED",
          executionReason: "NON_ZERO_EXIT_CODE",
          message: `Task ${e.name.split("/").pop()}-task0 failed with exit code 1`,
        }
        : {
          type: "Completed",
          state: "CONDITION_SUCCEEDED",
          message: "Execution completed successfully",
        }
      : { type: "Completed", state: "CONDITION_RECONCILING" };
    return {
      name: e.name,
      uid: crypto.randomUUID(),
      job,
      createTime: e.createTime,
      startTime: e.createTime,
      ...(done ? { completionTime: new Date(this.clock.now()).toISOString() } : {}),
      taskCount: e.taskCount,
      parallelism: 1,
      ...counts,
      logUri: `https://console.cloud.google.com/logs/viewer?project=${project}` +
        `&advancedFilter=resource.type%3D%22cloud_run_job%22%20labels.%22run.googleapis.com%2Fexecution_name%22%3D%22${
          e.name.split("/").pop()
        }%22`,
      conditions: [
        { type: "ResourcesAvailable", state: "CONDITION_SUCCEEDED" },
        { type: "Started", state: "CONDITION_SUCCEEDED" },
        completed,
      ],
      template: {
        containers: [{
          image: `${region}-docker.pkg.dev/${project}/jobs/${job}:latest`,
          env: e.env,
          ...(e.args.length > 0 ? { args: e.args } : {}),
        }],
        ...(e.timeout ? { timeout: e.timeout } : {}),
        maxRetries: 3,
      },
    };
  }
}

/** PEM of a PKCS#8 private key, wrapped at 64 columns like Google's key files. */
export async function toPkcs8Pem(privateKey: CryptoKey): Promise<string> {
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
  const lines = der.toBase64().match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Key pairs handed out in turn: making a 2048-bit RSA key takes 0.1-1 s of CPU, most of these
 * tests' time, so a test file makes two and reuses them. Two calls in a row still give two
 * different keys (an impostor's key is never the registered one).
 */
const keyPairs: Promise<CryptoKeyPair>[] = [];
let keyPairTurn = 0;

export function testKeyPair(): Promise<CryptoKeyPair> {
  const turn = keyPairTurn++ % 2;
  keyPairs[turn] ??= generateRsaKeyPair();
  return keyPairs[turn];
}

async function generateRsaKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
}

export interface TestServiceAccount {
  /** The key file as a user downloads it. */
  json: string;
  clientEmail: string;
  privateKeyId: string;
  keyPair: CryptoKeyPair;
}

/**
 * A key pair (see testKeyPair) written into a key file whose `token_uri` is the fake's; registered with the
 * fake unless `register` is false (a key Google does not know).
 */
export async function createServiceAccount(
  fake: FakeGoogle,
  options: { clientEmail?: string; projectId?: string; privateKeyId?: string; register?: boolean } =
    {},
): Promise<TestServiceAccount> {
  const keyPair = await testKeyPair();
  const projectId = options.projectId ?? "hibiki-test";
  const clientEmail = options.clientEmail ?? `runner@${projectId}.iam.gserviceaccount.com`;
  const privateKeyId = options.privateKeyId ?? randomBytes(20).toHex();
  if (options.register !== false) {
    fake.registerAccount(clientEmail, privateKeyId, keyPair.publicKey);
  }
  const json = JSON.stringify(
    {
      type: "service_account",
      project_id: projectId,
      private_key_id: privateKeyId,
      private_key: await toPkcs8Pem(keyPair.privateKey),
      client_email: clientEmail,
      client_id: "123456789012345678901",
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: fake.tokenUrl,
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${
        encodeURIComponent(clientEmail)
      }`,
      universe_domain: "googleapis.com",
    },
    null,
    2,
  );
  return { json, clientEmail, privateKeyId, keyPair };
}
