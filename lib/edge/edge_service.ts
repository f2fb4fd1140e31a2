/**
 * The edge API behind seed 002's two functions. Accepting results is made cheap on purpose:
 * a batch is written durably as a few chunk records and acknowledged; storing each result
 * as a run of its job (with counters, retention and webhooks) happens from a queue right
 * after. That is how a top-of-the-hour burst of results is absorbed without making workers
 * wait, and a crash between the two steps loses nothing.
 */
import type { Clock } from "../clock.ts";
import type { Monitor } from "./monitor.ts";
import { kvKeys } from "../store/kv_keys.ts";
import type { CheckResult } from "./results_input.ts";
import type { WorkerStore } from "./worker_store.ts";

/** A chunk stays under Deno KV's 64 KiB value limit. */
const CHUNK_BYTES = 48 * 1024;
/** Keeps one commit of chunks under Deno KV's total size limit. */
const CHUNKS_PER_OP = 12;

export interface ResultChunk {
  results: CheckResult[];
}

export class EdgeError extends Error {
  override name = "EdgeError";
  constructor(readonly status: 403 | 404, readonly code: string, message: string) {
    super(message);
  }
}

export interface EdgeServiceOptions {
  kv: Deno.Kv;
  workers: WorkerStore;
  clock: Clock;
  /** Told when accepted results wait to be stored. */
  onAccepted: () => void;
}

export class EdgeService {
  constructor(private readonly options: EdgeServiceOptions) {}

  /** The active monitors assigned to an active worker. */
  async monitorsFor(workerId: string): Promise<Monitor[]> {
    const { workers, clock } = this.options;
    const worker = await workers.get(workerId);
    if (!worker) throw new EdgeError(404, "WORKER_NOT_FOUND", "Worker not found");
    await workers.touch(workerId, clock.now());
    if (!worker.is_active) throw new EdgeError(403, "WORKER_INACTIVE", "Worker is not active");
    return (await workers.listMonitors(workerId)).map((entry) => entry.monitor);
  }

  /** Stores a validated batch durably; returns how many results and monitors it held. */
  async accept(results: CheckResult[]): Promise<{ inserted: number; monitors: number }> {
    const { kv, clock, workers } = this.options;
    const now = clock.now();
    const batchId = crypto.randomUUID();
    const chunks = chunk(results);
    for (let i = 0; i < chunks.length; i += CHUNKS_PER_OP) {
      const op = kv.atomic();
      chunks.slice(i, i + CHUNKS_PER_OP).forEach((c, j) => {
        op.set([...kvKeys.resultsDue(), now, batchId, i + j], c);
      });
      const result = await op.commit();
      if (!result.ok) throw new Error("Cannot store results: the write was refused");
    }
    this.options.onAccepted();
    for (const workerId of new Set(results.map((r) => r.worker_id))) {
      await workers.touch(workerId, now);
    }
    return { inserted: results.length, monitors: new Set(results.map((r) => r.monitor_id)).size };
  }
}

function chunk(results: CheckResult[]): ResultChunk[] {
  const chunks: ResultChunk[] = [];
  let current: CheckResult[] = [];
  let size = 0;
  for (const result of results) {
    const bytes = 200 + (result.response_body_sample?.length ?? 0) * 3 +
      (result.error_message?.length ?? 0) * 3;
    if (size + bytes > CHUNK_BYTES && current.length > 0) {
      chunks.push({ results: current });
      current = [];
      size = 0;
    }
    current.push(result);
    size += bytes;
  }
  if (current.length > 0) chunks.push({ results: current });
  return chunks;
}
