/**
 * A hook's secrets at rest: the verification secret and the relay signing secret, sealed
 * under the master key with the hook in their context. Both the management API (which makes
 * and masks them) and the receive and relay paths (which open them) go through here, so there
 * is one cache of opened secrets.
 */
import { BoundedCache } from "../bounded_cache.ts";
import { BASE64URL, randomBytes, type SecretBox } from "../crypto.ts";
import { newWebhookSecret } from "../webhooks/secrets.ts";
import type { VerificationInput } from "./hook_input.ts";
import type { HookAction, HookRecord, Verification } from "../store/types.ts";

/** Secrets to show in full in this one answer (those Hibiki just made). */
export interface Shown {
  verification?: string;
  relay?: string;
}

export class HookSecrets {
  private readonly opened = new BoundedCache<string, string>();

  constructor(private readonly box: SecretBox) {}

  /** Seals the secret, making one when the input has none; a made secret is shown once. */
  async sealVerification(
    hookId: string,
    input: VerificationInput,
    shown: Shown,
  ): Promise<Verification> {
    if (input.mode === "none") return input;
    let secret = input.secret;
    if (secret === undefined) {
      secret = input.mode === "standard_webhooks"
        ? newWebhookSecret()
        : randomBytes(32).toBase64(BASE64URL);
      shown.verification = secret;
    }
    const sealed = await this.box.seal(secret, `inbound:${hookId}:verify`);
    return { ...input, secret: sealed } as Verification;
  }

  /** A relaying hook keeps its relay secret across changes; a new one is shown once. */
  async relaySecretFor(
    hookId: string,
    action: HookAction,
    current: string | null,
    shown: Shown,
  ): Promise<string | null> {
    if (action.type !== "relay") return null;
    if (current !== null) return current;
    shown.relay = newWebhookSecret();
    return await this.box.seal(shown.relay, `inbound:${hookId}:relay`);
  }

  /** The hook's verification with its secret opened, as `verifyRequest` takes it. */
  async openVerification(hook: HookRecord): Promise<Verification> {
    const v = hook.verification;
    if (v.mode === "none") return v;
    return { ...v, secret: await this.open(v.secret, `inbound:${hook.id}:verify`) };
  }

  /** The plain `whsec_` secret that signs this hook's relayed requests. */
  async relaySecret(hook: HookRecord): Promise<string> {
    if (hook.relaySecret === null) {
      throw new Error(`Cannot relay for hook "${hook.id}": it has no relay secret`);
    }
    return await this.open(hook.relaySecret, `inbound:${hook.id}:relay`);
  }

  /** Opening costs an AES-GCM decryption on every request; keep what was opened. */
  private async open(sealed: string, context: string): Promise<string> {
    return this.opened.get(sealed) ??
      this.opened.set(sealed, await this.box.open(sealed, context));
  }
}
