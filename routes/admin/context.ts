/** What every admin route knows about the request: who is signed in, the language, the token. */
import type { Context } from "hono";
import { ValidationError } from "../../lib/errors.ts";
import type { Lang, Translate } from "../../lib/i18n/i18n.ts";
import type { Session, User } from "../../lib/store/types.ts";

export type AdminEnv = {
  Variables: {
    lang: Lang;
    t: Translate;
    /** The viewer's IANA zone, from the cookie the pages' scripts set; null until then. */
    zone: string | null;
    /** When the request came in (the system's clock): what "3 minutes ago" counts from. */
    now: number;
    /** Set on every page except sign-in. */
    session: Session;
    user: User;
    /** The CSRF token forms on this page carry. */
    csrf: string;
  };
};

export type AdminContext = Context<AdminEnv>;

/**
 * Reads an urlencoded or multipart form as plain strings (the first of repeated fields). Always
 * parsed with `all: true`, since Hono keeps the first parse of a body for every later one.
 */
export async function formOf(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(await formLists(c))) {
    if (value.length > 0) out[name] = value[0];
  }
  return out;
}

/** The DangerZone's box, checked on the server too: a delete without it is refused. */
export async function requireConfirmed(c: AdminContext): Promise<void> {
  if ((await formOf(c)).confirm !== "1") {
    throw new ValidationError(c.get("t")("Tick the box to confirm the deletion"));
  }
}

/** A refused form's error: beside the field it names when the form has it, else on top. */
export function splitFormError(
  error: ValidationError | undefined,
  fields: ReadonlySet<string>,
): { errors: Record<string, string>; formError: string | null } {
  if (error?.field && fields.has(error.field)) {
    return { errors: { [error.field]: error.message }, formError: null };
  }
  return { errors: {}, formError: error?.message ?? null };
}

/** Every value of every field, as strings (files are ignored). */
export async function formLists(c: Context): Promise<Record<string, string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(body)) {
    out[name] = [value].flat().filter((v): v is string => typeof v === "string");
  }
  return out;
}
