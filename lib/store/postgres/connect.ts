/**
 * Opens the Postgres connection pool the Postgres store runs on (npm `postgres`). Epoch
 * milliseconds and counters are `bigint` columns: they come back as numbers (all fit in 2^53).
 */
import postgres from "postgres";

export type Sql = postgres.Sql;

export interface ConnectOptions {
  /** Connections in the pool. */
  max?: number;
  /**
   * Named prepared statements (faster); off for a pooler in transaction mode that does not
   * keep them (Supabase's pooler on port 6543).
   */
  prepare?: boolean;
}

export function connectPostgres(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    prepare: options.prepare ?? true,
    onnotice: () => {},
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  }) as unknown as Sql;
}
