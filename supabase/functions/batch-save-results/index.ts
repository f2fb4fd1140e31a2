/**
 * Seed 002's `batch-save-results` as a Supabase Edge Function: Hibiki's own handler over the
 * Postgres store on the project's database (see ../_shared/pingmon_function.ts).
 */
import { pingmonFunction } from "../_shared/pingmon_function.ts";

Deno.serve(pingmonFunction("batch-save-results"));
