/**
 * The one capped body reader of outbound requests: it keeps the first `limit` bytes of an
 * answer, decoded when it came gzip, deflate or brotli (the cap counts decoded bytes, so a
 * small compressed answer cannot blow up), and tells its source when to stop reading. Both
 * transports of lib/net/outbound.ts feed it chunk by chunk.
 */
import { errorDetail, NetFailure } from "./net_errors.ts";

/** Where a transport hands body chunks; false (or a promise of false) asks it to stop. */
export interface BodySink {
  push(chunk: Uint8Array): boolean | Promise<boolean>;
  /** The body ended: the last decoded bytes are collected. */
  end(): Promise<void>;
  /** Reading stopped early or failed: drop what is pending. */
  cancel(): void;
}

/** Keeps the first `limit` bytes; asks to stop once more than `drain` bytes went by. */
export class BodyCollector implements BodySink {
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  private seen = 0;

  /** Bytes read before asking to stop; lowered when the connection is dropped anyway. */
  drain: number;

  constructor(private readonly limit: number, drain: number = limit) {
    this.drain = drain;
  }

  readonly push = (chunk: Uint8Array): boolean => {
    this.seen += chunk.length;
    if (this.keptBytes < this.limit) {
      const part = chunk.subarray(0, this.limit - this.keptBytes);
      this.kept.push(part.slice());
      this.keptBytes += part.length;
    }
    return this.seen <= this.drain;
  };

  end(): Promise<void> {
    return Promise.resolve();
  }

  cancel(): void {}

  get truncated(): boolean {
    return this.seen > this.keptBytes;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.keptBytes);
    let offset = 0;
    for (const part of this.kept) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

const FORMATS: Record<string, string> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
  br: "brotli",
};

/** The sink for a body sent with `contentEncoding`: the collector itself, or a decoder. */
export function bodySink(collector: BodyCollector, contentEncoding: string | undefined): BodySink {
  const coding = contentEncoding?.trim().toLowerCase();
  const format = coding ? FORMATS[coding] : undefined;
  return format ? new DecodingSink(format as CompressionFormat, coding!, collector) : collector;
}

/** Decodes on the way to the collector; stops the source once the collector is done. */
class DecodingSink implements BodySink {
  private readonly writer: WritableStreamDefaultWriter<BufferSource>;
  private readonly pumping: Promise<void>;
  private written = false;
  private stopped = false;

  constructor(
    format: CompressionFormat,
    private readonly coding: string,
    collector: BodyCollector,
  ) {
    const stream = new DecompressionStream(format);
    this.writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    this.pumping = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (!collector.push(value)) {
          this.stopped = true;
          await reader.cancel().catch(() => {});
          return;
        }
      }
    })();
    // A broken body fails the write or end that meets it; nothing is left unhandled.
    this.pumping.catch(() => {});
    this.writer.closed.catch(() => {});
  }

  readonly push = async (chunk: Uint8Array): Promise<boolean> => {
    if (this.stopped) return false;
    this.written = true;
    try {
      // Copied: the transport reuses its read buffer.
      await this.writer.write(chunk.slice());
    } catch (error) {
      if (this.stopped) return false;
      throw this.failure(error);
    }
    return !this.stopped;
  };

  async end(): Promise<void> {
    try {
      // An empty body (HEAD, 204) has nothing to decode.
      if (!this.written) return this.cancel();
      if (!this.stopped) await this.writer.close();
      await this.pumping;
    } catch (error) {
      if (!this.stopped) throw this.failure(error);
    }
  }

  cancel(): void {
    this.stopped = true;
    this.writer.abort().catch(() => {});
  }

  private failure(error: unknown): NetFailure {
    return new NetFailure("network", `cannot decode ${this.coding} body: ${errorDetail(error)}`);
  }
}
