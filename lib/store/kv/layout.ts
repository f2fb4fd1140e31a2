/**
 * Moves a KV file written before layout 2 to it, once, at start-up before anything runs
 * (main.ts): each job's alert state and latest results went from keys of their own
 * (`["alert_state", userId, jobId]`, `["job_recent", userId, jobId]`) to the job's own range
 * (`kvKeys.alertState`, `kvKeys.jobRecent`), next to what every run rewrites anyway.
 *
 * Each key moves in one atomic operation with its old entry checked, so several processes
 * starting together move each key once; a process of this version never writes the old keys,
 * so there is nothing to move back. Every process sharing a KV file has to run this version
 * or later (the README says so).
 */
import { kvKeys } from "./keys.ts";

/** The layout this code reads and writes. */
export const KV_LAYOUT = 2;
/** Keys moved per atomic operation: two checks each, inside Deno KV's 100. */
const MOVE_BATCH = 45;

/** Where each kind of record was, and where it goes now. */
const MOVES: { from: string; to: (userId: string, jobId: string) => Deno.KvKey }[] = [
  { from: "alert_state", to: kvKeys.alertState },
  { from: "job_recent", to: kvKeys.jobRecent },
];

/** Upgrades the file's layout if it is older; returns how many keys moved. */
export async function upgradeKvLayout(kv: Deno.Kv): Promise<number> {
  const layout = await kv.get<number>(kvKeys.layout());
  if (layout.value !== null && layout.value >= KV_LAYOUT) return 0;
  let moved = 0;
  for (const { from, to } of MOVES) {
    for (;;) {
      const entries: Deno.KvEntry<unknown>[] = [];
      for await (const entry of kv.list({ prefix: [from] }, { limit: MOVE_BATCH })) {
        entries.push(entry);
      }
      if (entries.length === 0) break;
      moved += await moveAll(kv, entries, to);
    }
  }
  await kv.set(kvKeys.layout(), KV_LAYOUT);
  return moved;
}

/**
 * Moves the entries, together or (when another process moved some first) one by one; an entry
 * whose new key exists already is dropped, the new one being newer.
 */
async function moveAll(
  kv: Deno.Kv,
  entries: Deno.KvEntry<unknown>[],
  to: (userId: string, jobId: string) => Deno.KvKey,
): Promise<number> {
  const destinations = entries.map((e) => to(e.key[1] as string, e.key[2] as string));
  const op = kv.atomic();
  entries.forEach((entry, i) => {
    op.check(entry).check({ key: destinations[i], versionstamp: null })
      .set(destinations[i], entry.value).delete(entry.key);
  });
  if ((await op.commit()).ok) return entries.length;
  let moved = 0;
  for (const [i, entry] of entries.entries()) {
    const one = await kv.atomic().check(entry).check({ key: destinations[i], versionstamp: null })
      .set(destinations[i], entry.value).delete(entry.key).commit();
    if (one.ok) {
      moved++;
      continue;
    }
    // Gone (moved by another process), or already written anew: the old entry is stale.
    await kv.atomic().check(entry).delete(entry.key).commit();
  }
  return moved;
}
