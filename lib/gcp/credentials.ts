/**
 * Google service-account keys as stored credentials: the key JSON is sealed with the master
 * key and never returned or logged; the API shows only `id`, `client_email` and
 * `private_key_id`. The seed's `GCP_SERVICE_ACCOUNT` variable gives the operator (user
 * `default`) one more credential, id `env`, kept only in memory.
 */
import { DEFAULT_USER } from "../auth.ts";
import { BoundedCache } from "../bounded_cache.ts";
import type { Clock } from "../clock.ts";
import type { SecretBox } from "../crypto.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { CredentialStore } from "../store/credentials.ts";
import type { StoredCredential } from "../store/types.ts";
import {
  type GcpCredential,
  isGoogleTokenUri,
  loadServiceAccountKey,
  parseServiceAccountJson,
} from "./service_account.ts";

export const ENV_CREDENTIAL_ID = "env";

export interface CredentialView {
  id: string;
  type: "gcp_service_account";
  client_email: string;
  private_key_id: string;
  project_id: string;
  createdAt: string;
}

export interface CredentialServiceOptions {
  credentials: CredentialStore;
  box: SecretBox;
  clock: Clock;
  /** `GCP_SERVICE_ACCOUNT`: the key file's JSON (or base64 of it). */
  envKey: string | null;
  /**
   * Admit a non-Google `token_uri` (only with HIBIKI_ALLOW_PRIVATE_NETWORKS, for a local
   * fake): the token request goes to that URL, so it is user input worth refusing.
   */
  allowAnyTokenUri: boolean;
}

export class CredentialService {
  private readonly loaded = new BoundedCache<string, Promise<GcpCredential>>();

  constructor(private readonly options: CredentialServiceOptions) {}

  private get keyOptions() {
    return { allowTokenUri: this.options.allowAnyTokenUri ? () => true : isGoogleTokenUri };
  }

  async create(userId: string, body: unknown): Promise<CredentialView> {
    const input = body as { type?: unknown; key?: unknown } | null;
    if (input?.type !== "gcp_service_account") {
      throw new ValidationError('type must be "gcp_service_account"', "type");
    }
    if (input.key === undefined) throw new ValidationError("key is required", "key");
    const json = parseServiceAccountJson(input.key, this.keyOptions);
    await loadServiceAccountKey(json, this.keyOptions); // refuses a key that does not import
    const id = `cred_${crypto.randomUUID().replaceAll("-", "")}`;
    const record: StoredCredential = {
      id,
      userId,
      type: "gcp_service_account",
      client_email: json.client_email,
      private_key_id: json.private_key_id,
      project_id: json.project_id,
      sealedKey: await this.options.box.seal(JSON.stringify(json), `credential:${id}`),
      createdAt: new Date(this.options.clock.now()).toISOString(),
    };
    await this.options.credentials.put(record);
    return view(record);
  }

  async list(userId: string): Promise<CredentialView[]> {
    const out: CredentialView[] = [];
    const env = userId === DEFAULT_USER ? this.envView() : null;
    if (env) out.push(env);
    for (const record of await this.options.credentials.list(userId)) out.push(view(record));
    return out;
  }

  async get(userId: string, id: string): Promise<CredentialView> {
    if (id === ENV_CREDENTIAL_ID && userId === DEFAULT_USER) {
      const env = this.envView();
      if (env) return env;
    }
    const record = await this.options.credentials.get(userId, id);
    if (!record) throw new NotFoundError(`Credential "${id}" not found`);
    return view(record);
  }

  async delete(userId: string, id: string): Promise<void> {
    if (id === ENV_CREDENTIAL_ID) {
      throw new ValidationError(
        "The env credential comes from GCP_SERVICE_ACCOUNT; unset it there",
      );
    }
    await this.get(userId, id);
    await this.options.credentials.delete(userId, id);
    this.loaded.delete(`${userId}/${id}`);
  }

  /** The imported key, for signing; cached per credential. */
  load(userId: string, id: string): Promise<GcpCredential> {
    const cacheKey = `${userId}/${id}`;
    let credential = this.loaded.get(cacheKey);
    if (!credential) {
      credential = this.import(userId, id);
      credential.catch(() => this.loaded.delete(cacheKey));
      this.loaded.set(cacheKey, credential);
    }
    return credential;
  }

  private async import(userId: string, id: string): Promise<GcpCredential> {
    if (id === ENV_CREDENTIAL_ID && userId === DEFAULT_USER && this.options.envKey) {
      return {
        id: ENV_CREDENTIAL_ID,
        key: await loadServiceAccountKey(this.envJson(), this.keyOptions),
      };
    }
    const record = await this.options.credentials.get(userId, id);
    if (!record) throw new NotFoundError(`Credential "${id}" not found`);
    const json = await this.options.box.open(record.sealedKey, `credential:${id}`);
    return { id: `${userId}/${id}`, key: await loadServiceAccountKey(json, this.keyOptions) };
  }

  private envJson(): unknown {
    const text = this.options.envKey!.trim();
    return text.startsWith("{") ? text : new TextDecoder().decode(Uint8Array.fromBase64(text));
  }

  private envView(): CredentialView | null {
    if (!this.options.envKey) return null;
    const json = parseServiceAccountJson(this.envJson(), this.keyOptions);
    return {
      id: ENV_CREDENTIAL_ID,
      type: "gcp_service_account",
      client_email: json.client_email,
      private_key_id: json.private_key_id,
      project_id: json.project_id,
      createdAt: new Date(0).toISOString(),
    };
  }
}

function view(record: StoredCredential): CredentialView {
  return {
    id: record.id,
    type: record.type,
    client_email: record.client_email,
    private_key_id: record.private_key_id,
    project_id: record.project_id,
    createdAt: record.createdAt,
  };
}
