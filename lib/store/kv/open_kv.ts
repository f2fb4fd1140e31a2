/**
 * Opens Deno KV for Hibiki. Several processes may share one KV file (that is how Hibiki
 * scales out on one box); SQLite then answers "database is locked" to a writer that loses
 * a race for the file lock for longer than its busy timeout. Such a write changed nothing,
 * so it is safe to try again: the handle returned here retries those, with jittered backoff.
 */

const MAX_ATTEMPTS = 30;

/** Without a path: the platform's KV (on Deno Deploy, the project's database). */
export async function openKv(path?: string): Promise<Deno.Kv> {
  return withLockRetry(await Deno.openKv(path));
}

export function withLockRetry(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => retryLocked(commit);
          return op;
        };
      }
      if (property === "set" || property === "delete" || property === "enqueue") {
        const method = target[property] as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => retryLocked(() => method.apply(target, args));
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function retryLocked<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await write();
    } catch (error) {
      const locked = error instanceof Error && /database is (locked|busy)/i.test(error.message);
      if (!locked || attempt >= MAX_ATTEMPTS) throw error;
      const backoff = Math.min(200, 2 ** attempt) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
