/**
 * Results waiting to be sent, in a local Deno KV file: a worker that cannot reach Hibiki
 * keeps checking and keeps every result, and a restarted worker sends what it had.
 */
import type { CheckResult } from "../store/types.ts";

export class ResultOutbox {
  private seq = 0;

  constructor(private readonly kv: Deno.Kv) {}

  async add(result: CheckResult): Promise<void> {
    // The sequence keeps two results of the same millisecond apart.
    await this.kv.set(
      ["out", Date.parse(result.checked_at), this.seq++, crypto.randomUUID()],
      result,
    );
  }

  /** The oldest results, up to `limit`, with the keys to remove once they are accepted. */
  async take(limit: number): Promise<{ keys: Deno.KvKey[]; results: CheckResult[] }> {
    const keys: Deno.KvKey[] = [];
    const results: CheckResult[] = [];
    for await (const entry of this.kv.list<CheckResult>({ prefix: ["out"] }, { limit })) {
      keys.push(entry.key);
      results.push(entry.value);
    }
    return { keys, results };
  }

  async remove(keys: Deno.KvKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) {
      const op = this.kv.atomic();
      for (const key of keys.slice(i, i + 500)) op.delete(key);
      await op.commit();
    }
  }

  async size(): Promise<number> {
    let n = 0;
    for await (const _ of this.kv.list({ prefix: ["out"] })) n++;
    return n;
  }
}
