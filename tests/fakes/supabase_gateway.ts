/**
 * A stand-in for a Supabase project's Edge Functions gateway on 127.0.0.1, checking what the
 * real one checks before a function deployed with `verify_jwt = true` runs, and answering as
 * Supabase documents it ("Edge Function 401 error response"):
 * - no `Authorization` header: 401 `{"code":401,"message":"Missing authorization header"}`;
 * - a bearer that is not a JWT signed HS256 with the project's JWT secret, or has expired:
 *   401 `{"code":401,"message":"Invalid JWT"}` (the anon key is such a JWT, role `anon`);
 * - a function the project does not have: 404
 *   `{"code":"NOT_FOUND","message":"Requested function was not found"}`.
 * Like the real gateway it does not look at `apikey` (supabase-js sends it anyway) nor at any
 * other header. Everything else is forwarded, method, headers and body as sent, to the
 * function's own server, and its answer is passed back unchanged.
 */
import { jwtVerify, SignJWT } from "jose";

export interface GatewayFunction {
  /** Where the function's server takes the request (its full URL). */
  url: string;
  /** As in supabase/config.toml; true when not given, as on Supabase. */
  verifyJwt?: boolean;
}

export interface GatewayCall {
  name: string;
  headers: Headers;
  /** What the gateway answered: its own 401/404, or the function's status. */
  status: number;
  /** Whether the call reached the function. */
  forwarded: boolean;
}

export interface FakeSupabaseGateway {
  /** The project URL, for SUPABASE_URL: functions are at `<url>/functions/v1/<name>`. */
  url: string;
  port: number;
  /** The project's anon key: an HS256 JWT signed with its JWT secret. */
  anonKey: string;
  calls: GatewayCall[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const ANON_CLAIMS = { iss: "supabase", ref: "hibikitestref", role: "anon" };

/**
 * A key shaped like a project's anon key (role `anon`, HS256), signed with `secret`, expiring
 * ten years from now unless `expiresAt` (epoch seconds) says otherwise.
 */
export function mintAnonKey(secret: string, expiresAt?: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(ANON_CLAIMS)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(Math.min(now, expiresAt ?? now))
    .setExpirationTime(expiresAt ?? now + 10 * 365 * 86400)
    .sign(new TextEncoder().encode(secret));
}

export async function startFakeSupabaseGateway(options: {
  functions: Record<string, GatewayFunction>;
  /** The project's JWT secret; a random one when not given. */
  jwtSecret?: string;
  /** A fixed port, to bring the gateway back where workers expect it. */
  port?: number;
}): Promise<FakeSupabaseGateway> {
  const jwtSecret = options.jwtSecret ?? crypto.randomUUID() + crypto.randomUUID();
  const key = new TextEncoder().encode(jwtSecret);
  const calls: GatewayCall[] = [];
  const refuse = (status: number, code: number | string, message: string) =>
    Response.json({ code, message }, { status });

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen() {} },
    async (request) => {
      const match = /^\/functions\/v1\/([^/?]+)$/.exec(new URL(request.url).pathname);
      const name = match ? decodeURIComponent(match[1]) : "";
      const fn = match ? options.functions[name] : undefined;
      const call: GatewayCall = { name, headers: request.headers, status: 0, forwarded: false };
      calls.push(call);
      let answer: Response;
      if (!fn) answer = refuse(404, "NOT_FOUND", "Requested function was not found");
      else if ((fn.verifyJwt ?? true) && !request.headers.has("authorization")) {
        answer = refuse(401, 401, "Missing authorization header");
      } else if ((fn.verifyJwt ?? true) && !(await validJwt(request.headers, key))) {
        answer = refuse(401, 401, "Invalid JWT");
      } else {
        call.forwarded = true;
        answer = await forward(request, fn.url);
      }
      call.status = answer.status;
      return answer;
    },
  );
  const anonKey = await mintAnonKey(jwtSecret);
  const close = () => server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    anonKey,
    calls,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function validJwt(headers: Headers, key: Uint8Array): Promise<boolean> {
  const match = /^Bearer (\S+)$/i.exec(headers.get("authorization") ?? "");
  if (!match) return false;
  try {
    await jwtVerify(match[1], key, { algorithms: ["HS256"] });
    return true;
  } catch {
    return false;
  }
}

async function forward(request: Request, url: string): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.delete("host");
  try {
    const answer = await fetch(url, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD"
        ? undefined
        : await request.arrayBuffer(),
    });
    const back = new Headers(answer.headers);
    // fetch has decoded the body already.
    back.delete("content-encoding");
    back.delete("content-length");
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: back });
  } catch {
    // The function's server is down: a relay error (`x-relay-error`), which supabase-js
    // reports as FunctionsRelayError.
    return Response.json(
      { code: "BOOT_ERROR", message: "Function failed to start (please check logs)" },
      { status: 503, headers: { "x-relay-error": "true" } },
    );
  }
}
