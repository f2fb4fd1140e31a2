/**
 * Seed 002's `get-monitors-to-check` as a Supabase Edge Function: Hibiki's own handler over the
 * Postgres store on the project's database (see ../_shared/pingmon_function.ts).
 */
import { pingmonFunction } from "../_shared/pingmon_function.ts";

Deno.serve(pingmonFunction("get-monitors-to-check"));
