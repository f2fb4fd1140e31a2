/** Probe workers and the monitors each one checks, in Deno KV. */
import { ConflictError, NotFoundError } from "../../errors.ts";
import { type CheckResult, type ResultChunk, type Worker, WORKER_ID } from "../types.ts";
import type { MonitorEntry, WorkerStore } from "../workers.ts";
import { getMany } from "./get_many.ts";
import { kvKeys } from "./keys.ts";

function withSeen(worker: Worker, seen: unknown): Worker {
  const at = seen instanceof Deno.KvU64 ? Number(seen.value) : null;
  return at === null ? worker : { ...worker, last_seen_at: new Date(at).toISOString() };
}

/** A chunk of results stays well under Deno KV's 64 KiB value limit. */
const CHUNK_BYTES = 48 * 1024;
/** Keeps one commit of chunks under Deno KV's total size limit. */
const CHUNKS_PER_OP = 12;

interface CachedMonitors {
  revision: bigint;
  entries: MonitorEntry[];
  /** monitor id → owner, built on first use: what a result may be stored for. */
  owners?: Map<string, string>;
}

export class KvWorkerStore implements WorkerStore {
  private readonly monitors = new Map<string, CachedMonitors>();

  constructor(private readonly kv: Deno.Kv) {}

  async create(worker: Worker): Promise<void> {
    const key = kvKeys.worker(worker.id);
    const result = await this.kv.atomic().check({ key, versionstamp: null }).set(key, worker)
      .commit();
    if (!result.ok) throw new ConflictError(`Cannot create worker: "${worker.id}" already exists`);
  }

  async get(workerId: string): Promise<Worker | null> {
    // A worker names itself: an id no worker can have (too long for a key) is no worker.
    if (!WORKER_ID.test(workerId)) return null;
    const [worker, seen] = await this.kv.getMany<[Worker, Deno.KvU64]>([
      kvKeys.worker(workerId),
      kvKeys.workerSeen(workerId),
    ]);
    return worker.value && withSeen(worker.value, seen.value);
  }

  async list(): Promise<Worker[]> {
    const workers: Worker[] = [];
    for await (const entry of this.kv.list<Worker>({ prefix: kvKeys.workers() })) {
      workers.push(entry.value);
    }
    const seen = await getMany(this.kv, workers.map((w) => kvKeys.workerSeen(w.id)));
    return workers.map((w, i) => withSeen(w, seen[i].value as number | null));
  }

  async update(workerId: string, change: (worker: Worker) => Worker): Promise<Worker> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await this.kv.get<Worker>(kvKeys.worker(workerId));
      if (!entry.value) throw new NotFoundError(`Worker "${workerId}" not found`);
      const next = change(entry.value);
      if ((await this.kv.atomic().check(entry).set(entry.key, next).commit()).ok) return next;
    }
    throw new ConflictError(`Cannot update worker "${workerId}": too many concurrent changes`);
  }

  /**
   * Records that the worker called in, on every call: a blind write of its own key (taking
   * the latest time), so it never conflicts with a change to the worker.
   */
  async touch(workerId: string, now: number): Promise<void> {
    await this.kv.atomic().max(kvKeys.workerSeen(workerId), BigInt(now)).commit();
  }

  async queueResults(results: CheckResult[], at: number): Promise<void> {
    const batchId = crypto.randomUUID();
    const chunks = chunk(results);
    for (let i = 0; i < chunks.length; i += CHUNKS_PER_OP) {
      const op = this.kv.atomic();
      chunks.slice(i, i + CHUNKS_PER_OP).forEach((c, j) => {
        op.set([...kvKeys.resultsDue(), at, batchId, i + j], c);
      });
      const result = await op.commit();
      if (!result.ok) throw new Error("Cannot store results: the write was refused");
    }
  }

  /**
   * A worker's monitors. A worker asks every minute and its list rarely changes, so the list
   * is kept in memory and read again only when the worker's revision counter (bumped in the
   * same atomic operation as every change, by any process) has moved.
   */
  async listMonitors(workerId: string): Promise<MonitorEntry[]> {
    return (await this.cachedMonitors(workerId)).entries;
  }

  /**
   * The owners of those monitors assigned to a worker, by monitor id: only results for these
   * may be stored. Read through the same cache as `listMonitors`, so checking a batch costs
   * one read of the revision counter.
   */
  async monitorOwners(
    workerId: string,
    monitorIds: readonly string[],
  ): Promise<Map<string, string>> {
    const cached = await this.cachedMonitors(workerId);
    cached.owners ??= new Map(cached.entries.map((e) => [e.monitor.monitor_id, e.userId]));
    const owners = new Map<string, string>();
    for (const id of monitorIds) {
      const owner = cached.owners.get(id);
      if (owner !== undefined) owners.set(id, owner);
    }
    return owners;
  }

  private async cachedMonitors(workerId: string): Promise<CachedMonitors> {
    const revision = (await this.kv.get<Deno.KvU64>(kvKeys.workerMonitorsRevision(workerId)))
      .value?.value ?? 0n;
    const cached = this.monitors.get(workerId);
    if (cached && cached.revision === revision) return cached;
    const entries: MonitorEntry[] = [];
    const iter = this.kv.list<MonitorEntry>(
      { prefix: kvKeys.workerMonitors(workerId) },
      { batchSize: 1000, consistency: "strong" },
    );
    for await (const entry of iter) entries.push(entry.value);
    const after = (await this.kv.get<Deno.KvU64>(kvKeys.workerMonitorsRevision(workerId)))
      .value?.value ?? 0n;
    // Every change commits its entries and the revision bump together, so an unchanged
    // revision before and after the read means the list matches it; otherwise read again later.
    const read: CachedMonitors = { revision, entries };
    if (after === revision) this.monitors.set(workerId, read);
    return read;
  }
}

/** Results in chunks of about `CHUNK_BYTES` each (a guess from their text fields). */
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
