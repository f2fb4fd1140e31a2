/**
 * The inbound hook form (new and edit). Verification and action are fieldsets whose mode or
 * type decides which of their fields apply; without JavaScript every field shows, each with a
 * hint saying when it is used. A secret typed in is never shown back.
 */
import type { Translate } from "../lib/i18n/i18n.ts";
import { VERIFICATION_MODES, type VerificationMode } from "../lib/store/types.ts";
import { Csrf, Field, TextField } from "./field.tsx";

// The API's own list: the form offers exactly what the API accepts.
export { VERIFICATION_MODES, type VerificationMode };
export const ACTION_TYPES = ["store", "relay", "run"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** What the form shows: strings as typed, so a rejected form comes back as it was sent. */
export interface HookFormValues {
  name: string;
  enabled: boolean;
  mode: VerificationMode;
  header: string;
  prefix: string;
  encoding: "hex" | "base64";
  toleranceSeconds: string;
  /** Never rendered back. */
  secret: string;
  /** Editing: make a new secret (shown once). */
  newSecret: boolean;
  challenge: boolean;
  actionType: ActionType;
  relayUrl: string;
  relayHeaders: string;
  jobId: string;
}

export const EMPTY_HOOK_FORM: HookFormValues = {
  name: "",
  enabled: true,
  mode: "header_secret",
  header: "",
  prefix: "",
  encoding: "hex",
  toleranceSeconds: "",
  secret: "",
  newSecret: false,
  challenge: false,
  actionType: "store",
  relayUrl: "",
  relayHeaders: "",
  jobId: "",
};

export interface HookFormProps {
  t: Translate;
  csrf: string;
  action: string;
  values: HookFormValues;
  /** Messages by API field: name, verification, action. */
  errors: Record<string, string>;
  formError?: string | null;
  /** The user's jobs, for the run action. */
  jobs: { id: string; name: string }[];
  editing: boolean;
  submitLabel: string;
}

const MODE_LABELS: Record<VerificationMode, string> = {
  none: "None",
  header_secret: "Header equals a secret",
  hmac_sha256: "HMAC-SHA256 signature",
  standard_webhooks: "Standard Webhooks",
  github: "GitHub",
  stripe: "Stripe",
};

const ACTION_LABELS: Record<ActionType, string> = {
  store: "Store the event",
  relay: "Relay to a URL",
  run: "Run a job",
};

export function HookForm(props: HookFormProps) {
  const { t, values, errors } = props;
  const jobs = [...props.jobs];
  if (values.jobId && !jobs.some((j) => j.id === values.jobId)) {
    jobs.push({ id: values.jobId, name: values.jobId });
  }
  return (
    <form method="post" action={props.action} class="job-form hook-form" novalidate>
      <Csrf token={props.csrf} />
      {props.formError && <p class="error form-error" role="alert">{props.formError}</p>}
      <TextField
        id="hook-name"
        name="name"
        label={t("Name")}
        value={values.name}
        error={errors.name}
        required
      />
      <fieldset
        id="hook-verification"
        class={errors.verification ? "field-error" : undefined}
        aria-describedby={errors.verification ? "hook-verification-error" : undefined}
      >
        <legend>{t("Verification")}</legend>
        {errors.verification && (
          <p class="error" id="hook-verification-error" role="alert">{errors.verification}</p>
        )}
        <Field id="hook-mode" label={t("Mode")}>
          <select id="hook-mode" name="mode">
            {VERIFICATION_MODES.map((mode) => (
              <option key={mode} value={mode} selected={values.mode === mode}>
                {t(MODE_LABELS[mode])} ({mode})
              </option>
            ))}
          </select>
        </Field>
        <TextField
          id="hook-secret"
          name="secret"
          label={t("Secret")}
          type="password"
          autocomplete="off"
          hint={props.editing
            ? t("Empty keeps the current secret. Stripe: the signing secret from Stripe.")
            : t(
              "Empty: Hibiki makes one and shows it once (not for Stripe: paste its signing secret).",
            )}
        />
        {props.editing && (
          <label class="check">
            <input type="checkbox" name="newSecret" value="1" checked={values.newSecret} />{" "}
            {t("Make a new secret (shown once)")}
          </label>
        )}
        <TextField
          id="hook-header"
          name="header"
          label={t("Signature header")}
          value={values.header}
          placeholder="Secret / X-Signature"
          hint={t("For header_secret (default Secret) and hmac_sha256 (default X-Signature)")}
        />
        <TextField
          id="hook-prefix"
          name="prefix"
          label={t("Signature prefix")}
          value={values.prefix}
          placeholder="sha256="
          hint={t("For hmac_sha256: text before the digest")}
        />
        <Field id="hook-encoding" label={t("Signature encoding")} hint={t("For hmac_sha256")}>
          <select id="hook-encoding" name="encoding">
            {["hex", "base64"].map((e) => (
              <option key={e} value={e} selected={values.encoding === e}>{e}</option>
            ))}
          </select>
        </Field>
        <TextField
          id="hook-tolerance"
          name="toleranceSeconds"
          label={t("Timestamp tolerance (seconds)")}
          type="number"
          value={values.toleranceSeconds}
          placeholder="300"
          hint={t("For standard_webhooks and stripe")}
        />
      </fieldset>
      <label class="check">
        <input type="checkbox" name="challenge" value="1" checked={values.challenge} />{" "}
        {t("Answer challenges (a JSON body's challenge, Slack's url_verification)")}
      </label>
      <fieldset
        id="hook-action"
        class={errors.action ? "field-error" : undefined}
        aria-describedby={errors.action ? "hook-action-error" : undefined}
      >
        <legend>{t("Action")}</legend>
        {errors.action && <p class="error" id="hook-action-error" role="alert">{errors.action}</p>}
        <Field id="hook-action-type" label={t("Then")}>
          <select id="hook-action-type" name="actionType">
            {ACTION_TYPES.map((type) => (
              <option key={type} value={type} selected={values.actionType === type}>
                {t(ACTION_LABELS[type])}
              </option>
            ))}
          </select>
        </Field>
        <TextField
          id="hook-relay-url"
          name="relayUrl"
          label={t("Relay URL")}
          type="url"
          value={values.relayUrl}
          placeholder="https://example.com/inbound"
          hint={t("For relay: re-signed with the hook's own secret, shown once")}
        />
        <Field
          id="hook-relay-headers"
          label={t("Relay headers")}
          hint={t("For relay. One per line: Name: value")}
        >
          <textarea id="hook-relay-headers" name="relayHeaders" rows={2} spellcheck={false}>
            {values.relayHeaders}
          </textarea>
        </Field>
        <Field id="hook-job" label={t("Job to run")} hint={t("For run")}>
          <select id="hook-job" name="jobId">
            <option value="" selected={values.jobId === ""}>{t("Choose a job")}</option>
            {jobs.map((job) => (
              <option key={job.id} value={job.id} selected={values.jobId === job.id}>
                {job.name}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
      <label class="check">
        <input type="checkbox" name="enabled" value="1" checked={values.enabled} /> {t("Enabled")}
      </label>
      <button type="submit" class="primary">{props.submitLabel}</button>
    </form>
  );
}
