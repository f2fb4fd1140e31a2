/**
 * What every run rewrites of its job in Deno KV, as one value (`kvKeys.jobTally`): how many of
 * its runs counted, when the newest of them started, and its latest results (the ring of
 * lib/store/recent_results.ts). One value, where the two counters were KvU64 keys of their own
 * beside it, saves two of the fourteen writes of a check; the value is checked against the
 * version its writer read anyway (RunWriter), so concurrent runs of a job never lose a count.
 *
 * Packed bytes: count and last start (float64, big-endian; 0 before any), then the ring.
 */
const HEADER_BYTES = 16;

export interface JobTally {
  /** Runs that counted (executions, not missed fires). */
  count: number;
  /** When the newest counted run started (epoch ms); 0 before any. */
  lastRunAt: number;
  ring: Uint8Array;
}

export function packTally(tally: JobTally): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + tally.ring.length);
  const view = new DataView(out.buffer);
  view.setFloat64(0, tally.count);
  view.setFloat64(8, tally.lastRunAt);
  out.set(tally.ring, HEADER_BYTES);
  return out;
}

/** The tally of a stored value; an absent one is a job that never ran. */
export function unpackTally(value: Uint8Array | null | undefined): JobTally {
  if (!value || value.length < HEADER_BYTES) {
    return { count: 0, lastRunAt: 0, ring: new Uint8Array(0) };
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return {
    count: view.getFloat64(0),
    lastRunAt: view.getFloat64(8),
    ring: value.subarray(HEADER_BYTES),
  };
}
