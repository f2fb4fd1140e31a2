/**
 * A memo with a size bound, for work worth keeping but not worth keeping forever: opened
 * (decrypted) secrets, decoded signing keys, hooks read for a burst of requests, compiled cron
 * expressions and time zones. Their keys come from stored records and users, so a plain Map
 * would grow with every secret or expression the process ever saw.
 *
 * The least recently used entry goes first: a hit moves its entry to the back of the Map's
 * insertion order (a delete and a set, tens of nanoseconds beside the AES-GCM decryption or
 * HMAC key setup it saves), and an insert past the limit drops the front. Clearing the whole
 * map at the limit, as each place once did, turned the hot few cold all at once.
 */

/** Enough for every secret and schedule of a large installation; a few MB at most. */
export const DEFAULT_CACHE_LIMIT = 10_000;

export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly limit: number = DEFAULT_CACHE_LIMIT) {
    if (!(limit >= 1)) throw new RangeError(`Cannot make a cache: limit ${limit} is below 1`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether `key` is cached; it does not count as a use. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const entries = this.#entries;
    const hit = entries.get(key);
    if (hit !== undefined) {
      entries.delete(key);
      entries.set(key, hit);
    }
    return hit;
  }

  /** Stores `value` as the most recently used, evicting the least recently used past the limit. */
  set(key: K, value: V): V {
    const entries = this.#entries;
    entries.delete(key);
    entries.set(key, value);
    if (entries.size > this.limit) entries.delete(entries.keys().next().value!);
    return value;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
