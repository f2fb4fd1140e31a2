/**
 * A job's latest results as the dashboard's heartbeat bar and sparkline draw them, kept by the
 * store with each run (`recordRun`) so a page of 50 rows reads 50 small values, never runs.
 *
 * The ring is packed bytes, 9 a result, oldest first: time (u32, seconds since 2020-01-01 UTC,
 * good until 2156), latency (u32 ms; 0xFFFFFFFF when none) and a status byte (bits 0–1:
 * success, failure, missed; bit 2: inside a maintenance window), big-endian so Postgres builds
 * the same bytes with `int8send`. A writer appends its run's bytes and keeps the last
 * `RECENT_MAX`: the newest recorded, drawn in time order (a worker's late result can arrive
 * after a newer local one). 450 bytes at most: one KV value, one `bytea` column.
 */
import type { Run } from "./types.ts";

export const RECENT_MAX = 50;
export const RECENT_ENTRY_BYTES = 9;
/** Seconds from the Unix epoch to 2020-01-01T00:00:00Z: times are counted from there. */
const EPOCH_S = 1_577_836_800;
const NO_LATENCY = 0xffff_ffff;
const STATUSES = ["success", "failure", "missed"] as const;

/** One result of the ring, decoded. */
export interface RecentResult {
  /** The run's scheduled time, epoch ms (to the second). */
  at: number;
  status: (typeof STATUSES)[number];
  latencyMs: number | null;
  /** Made while a maintenance window covered the job. */
  maintenance: boolean;
}

/** The bytes a run adds to its job's ring. */
export function recentEntry(
  run: Pick<Run, "scheduledAt" | "durationMs" | "status" | "maintenance">,
): Uint8Array {
  const out = new Uint8Array(RECENT_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  const seconds = Math.floor(Date.parse(run.scheduledAt) / 1000) - EPOCH_S;
  view.setUint32(0, Math.min(Math.max(seconds, 0), 0xffff_ffff));
  const latency = run.durationMs === null ? NO_LATENCY : Math.round(run.durationMs);
  view.setUint32(4, Math.min(Math.max(latency, 0), NO_LATENCY));
  const status = Math.max(0, STATUSES.indexOf(run.status as (typeof STATUSES)[number]));
  out[8] = status | (run.maintenance ? 4 : 0);
  return out;
}

/** `ring` with `entries` appended, keeping the last RECENT_MAX. */
export function appendRecent(ring: Uint8Array | null, entries: readonly Uint8Array[]): Uint8Array {
  const before = ring ?? new Uint8Array(0);
  const length = before.length + entries.length * RECENT_ENTRY_BYTES;
  const all = new Uint8Array(length);
  all.set(before, 0);
  entries.forEach((entry, i) => all.set(entry, before.length + i * RECENT_ENTRY_BYTES));
  return all.slice(Math.max(0, length - RECENT_MAX * RECENT_ENTRY_BYTES));
}

/** The ring's results, oldest first. */
export function decodeRecent(ring: Uint8Array | null | undefined): RecentResult[] {
  if (!ring) return [];
  const view = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  const out: RecentResult[] = [];
  for (let i = 0; i + RECENT_ENTRY_BYTES <= ring.length; i += RECENT_ENTRY_BYTES) {
    const latency = view.getUint32(i + 4);
    const flags = ring[i + 8];
    out.push({
      at: (view.getUint32(i) + EPOCH_S) * 1000,
      status: STATUSES[flags & 3] ?? "failure",
      latencyMs: latency === NO_LATENCY ? null : latency,
      maintenance: (flags & 4) !== 0,
    });
  }
  // Stable: results of one second keep the order they were recorded in.
  return out.sort((a, b) => a.at - b.at);
}
