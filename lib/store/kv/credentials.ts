/** Credentials in Deno KV, one key each under their owner. */
import type { CredentialStore } from "../credentials.ts";
import type { StoredCredential } from "../types.ts";
import { kvKeys } from "./keys.ts";

export class KvCredentialStore implements CredentialStore {
  constructor(private readonly kv: Deno.Kv) {}

  async put(credential: StoredCredential): Promise<void> {
    await this.kv.set(kvKeys.credential(credential.userId, credential.id), credential);
  }

  async get(userId: string, id: string): Promise<StoredCredential | null> {
    return (await this.kv.get<StoredCredential>(kvKeys.credential(userId, id))).value;
  }

  async list(userId: string): Promise<StoredCredential[]> {
    const out: StoredCredential[] = [];
    const iter = this.kv.list<StoredCredential>({ prefix: kvKeys.credentialsOf(userId) });
    for await (const entry of iter) out.push(entry.value);
    return out;
  }

  async delete(userId: string, id: string): Promise<void> {
    await this.kv.delete(kvKeys.credential(userId, id));
  }
}
