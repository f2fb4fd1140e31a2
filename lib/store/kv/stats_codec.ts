/**
 * A job's statistics record (lib/stats/job_stats.ts) as Deno KV keeps it: packed bytes, about
 * a sixth of the V8-serialized object (25 hours: ~450 bytes, not 2,700) and several times
 * cheaper to read and write. Every job's record is read and rewritten once a minute, so this is
 * a steady share of a check's cost once the records hold a day.
 *
 * Layout: a format byte (1), the number of buckets per histogram, then per hour its epoch hour,
 * runs and passes, and for each histogram (latency, then lateness) a bit mask of the buckets
 * that are not zero followed by their counts; every number an unsigned LEB128 varint. Records
 * written before (V8-serialized objects) are read as they are.
 */
import type { HourStats, JobStatsRecord } from "../types.ts";

const FORMAT = 1;

export function packStats(record: JobStatsRecord): Uint8Array {
  let buckets = 0;
  for (const hour of record.hours) {
    buckets = Math.max(buckets, hour.latency.length, hour.late.length);
  }
  const out = new Writer();
  out.byte(FORMAT);
  out.byte(buckets);
  for (const hour of record.hours) {
    out.varint(hour.h);
    out.varint(hour.n);
    out.varint(hour.ok);
    out.histogram(hour.latency, buckets);
    out.histogram(hour.late, buckets);
  }
  return out.bytes();
}

/** The record of a stored value: packed, or an object from before; null when absent. */
export function unpackStats(value: unknown): JobStatsRecord | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Uint8Array)) return value as JobStatsRecord;
  if (value[0] !== FORMAT) throw new Error(`Cannot read job statistics: format ${value[0]}`);
  const buckets = value[1];
  const input = new Reader(value, 2);
  const hours: HourStats[] = [];
  while (!input.done()) {
    hours.push({
      h: input.varint(),
      n: input.varint(),
      ok: input.varint(),
      latency: input.histogram(buckets),
      late: input.histogram(buckets),
    });
  }
  return { hours };
}

class Writer {
  private buffer = new Uint8Array(512);
  private length = 0;

  byte(value: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Uint8Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = value;
  }

  /** A non-negative integer (counts and hours are far below 2^53). */
  varint(value: number): void {
    while (value >= 0x80) {
      this.byte((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.byte(value);
  }

  histogram(counts: readonly number[], buckets: number): void {
    let mask = 0;
    for (let i = 0; i < buckets; i++) if (counts[i]) mask += 2 ** i;
    this.varint(mask);
    for (let i = 0; i < buckets; i++) if (counts[i]) this.varint(counts[i]);
  }

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

class Reader {
  constructor(private readonly bytes: Uint8Array, private at: number) {}

  done(): boolean {
    return this.at >= this.bytes.length;
  }

  varint(): number {
    let value = 0;
    for (let scale = 1;; scale *= 0x80) {
      if (this.at >= this.bytes.length) throw new Error("Cannot read job statistics: cut short");
      const byte = this.bytes[this.at++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  }

  histogram(buckets: number): number[] {
    let mask = this.varint();
    const counts = new Array<number>(buckets).fill(0);
    for (let i = 0; i < buckets; i++, mask = Math.floor(mask / 2)) {
      if (mask % 2 === 1) counts[i] = this.varint();
    }
    return counts;
  }
}
