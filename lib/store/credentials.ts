/** The contract for stored credentials (sealed Google service-account keys). */
import type { StoredCredential } from "./types.ts";

export interface CredentialStore {
  /** Writes the credential, replacing one with the same owner and id. */
  put(credential: StoredCredential): Promise<void>;
  get(userId: string, id: string): Promise<StoredCredential | null>;
  /** A user's credentials, in id order. */
  list(userId: string): Promise<StoredCredential[]>;
  delete(userId: string, id: string): Promise<void>;
}
