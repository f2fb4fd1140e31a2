/** The Store contract against the Deno KV store on a real KV file. */
import { storeContract } from "../contract_test_suite.ts";
import { createKvStores } from "./mod.ts";
import { openKv } from "./open_kv.ts";

storeContract("Deno KV store", async ({ clock, retention }) => {
  const dir = await Deno.makeTempDir();
  const kv = await openKv(`${dir}/hibiki.kv`);
  return {
    ...createKvStores(kv, { clock, retention }),
    async [Symbol.asyncDispose]() {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
