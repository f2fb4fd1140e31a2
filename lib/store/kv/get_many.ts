/** `kv.getMany` for any number of keys: Deno KV reads at most 10 keys per call. */
export async function getMany(
  kv: Deno.Kv,
  keys: Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<unknown>[]> {
  const chunks: Promise<Deno.KvEntryMaybe<unknown>[]>[] = [];
  for (let i = 0; i < keys.length; i += 10) chunks.push(kv.getMany(keys.slice(i, i + 10)));
  return (await Promise.all(chunks)).flat();
}
