/** Between the hook form's strings and the API's JSON body, both ways. */
import { headerLines, parseHeaderLines } from "./header_lines.ts";
import {
  ACTION_TYPES,
  type ActionType,
  type HookFormValues,
  VERIFICATION_MODES,
  type VerificationMode,
} from "../../components/hook_form.tsx";
import { ValidationError } from "../../lib/errors.ts";
import type { HookView } from "../../lib/inbound/types.ts";
import { DEFAULT_TOLERANCE_SECONDS } from "../../lib/inbound/verify.ts";

export function hookFormValues(form: Record<string, string>): HookFormValues {
  return {
    name: form.name ?? "",
    enabled: form.enabled === "1",
    mode: (VERIFICATION_MODES as readonly string[]).includes(form.mode)
      ? form.mode as VerificationMode
      : "none",
    header: form.header ?? "",
    prefix: form.prefix ?? "",
    encoding: form.encoding === "base64" ? "base64" : "hex",
    toleranceSeconds: form.toleranceSeconds ?? "",
    secret: form.secret ?? "",
    newSecret: form.newSecret === "1",
    challenge: form.challenge === "1",
    actionType: (ACTION_TYPES as readonly string[]).includes(form.actionType)
      ? form.actionType as ActionType
      : "store",
    relayUrl: form.relayUrl ?? "",
    relayHeaders: form.relayHeaders ?? "",
    jobId: form.jobId ?? "",
  };
}

/** The form as it shows a stored hook (no secret). */
export function hookValues(hook: HookView): HookFormValues {
  const v = hook.verification as Record<string, unknown>;
  const action = hook.action;
  return {
    name: hook.name,
    enabled: hook.enabled,
    mode: hook.verification.mode,
    header: typeof v.header === "string" ? v.header : "",
    prefix: typeof v.prefix === "string" ? v.prefix : "",
    encoding: v.encoding === "base64" ? "base64" : "hex",
    toleranceSeconds: typeof v.toleranceSeconds === "number" ? String(v.toleranceSeconds) : "",
    secret: "",
    newSecret: false,
    challenge: hook.challenge,
    actionType: action.type,
    relayUrl: action.type === "relay" ? action.url : "",
    relayHeaders: action.type === "relay" ? headerLines(action.headers) : "",
    jobId: action.type === "run" ? action.jobId : "",
  };
}

/** The verification part without its secret, with the API's defaults filled in. */
function verificationOf(values: HookFormValues): Record<string, unknown> {
  const header = values.header.trim();
  const tolerance = values.toleranceSeconds.trim();
  let toleranceSeconds = DEFAULT_TOLERANCE_SECONDS;
  if (tolerance !== "") {
    if (!/^\d+$/.test(tolerance)) {
      throw new ValidationError(
        "verification.toleranceSeconds must be a whole number",
        "verification",
      );
    }
    toleranceSeconds = Number(tolerance);
  }
  switch (values.mode) {
    case "none":
    case "github":
      return { mode: values.mode };
    case "header_secret":
      return { mode: values.mode, header: header || "Secret" };
    case "hmac_sha256":
      return {
        mode: values.mode,
        header: header || "X-Signature",
        prefix: values.prefix.trim(),
        encoding: values.encoding,
      };
    case "standard_webhooks":
    case "stripe":
      return { mode: values.mode, toleranceSeconds };
  }
}

function actionOf(values: HookFormValues, current: HookView | null): Record<string, unknown> {
  switch (values.actionType) {
    case "store":
      return { type: "store" };
    case "run":
      if (values.jobId === "") throw new ValidationError("action.jobId: choose a job", "action");
      return { type: "run", jobId: values.jobId };
    case "relay": {
      const headers = parseHeaderLines(values.relayHeaders, "action.headers", "action");
      const action: Record<string, unknown> = {
        type: "relay",
        url: values.relayUrl.trim(),
        headers: Object.keys(headers).length > 0 ? headers : null,
      };
      // The form has no timeout field: a relaying hook keeps its own.
      if (current?.action.type === "relay") action.timeoutMs = current.action.timeoutMs;
      return action;
    }
  }
}

/** The body of `InboundHooks.create`. */
export function hookCreateBody(values: HookFormValues): Record<string, unknown> {
  const verification = verificationOf(values);
  if (values.mode !== "none" && values.secret !== "") verification.secret = values.secret;
  return {
    name: values.name,
    enabled: values.enabled,
    verification,
    challenge: values.challenge,
    action: actionOf(values, null),
  };
}

/**
 * The body of `InboundHooks.update`. Verification is sent only when it changes: a new
 * secret typed in, a new one asked for, or other settings changed (which, for a mode with a
 * secret, needs one of the first two: the stored secret is sealed and never read back here).
 */
export function hookPatchBody(values: HookFormValues, current: HookView): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: values.name,
    enabled: values.enabled,
    challenge: values.challenge,
    action: actionOf(values, current),
  };
  const verification = verificationOf(values);
  const { secret: _secret, ...was } = current.verification as Record<string, unknown>;
  const changed = JSON.stringify(sorted(verification)) !== JSON.stringify(sorted(was));
  if (values.mode === "none") {
    if (changed) body.verification = verification;
  } else if (values.secret !== "") {
    body.verification = { ...verification, secret: values.secret };
  } else if (values.newSecret) {
    body.verification = verification;
  } else if (changed) {
    throw new ValidationError(
      "To change how requests are verified, enter the secret or tick “Make a new secret”",
      "verification",
    );
  }
  return body;
}

function sorted(value: Record<string, unknown>): [string, unknown][] {
  return Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
}
