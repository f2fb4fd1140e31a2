/**
 * Page cursors of the stores' own making: the sort key of the last row shown, opaque to
 * callers (base64url of its JSON). A cursor that does not decode to a key of the expected
 * shape is the client's error.
 */
import { ValidationError } from "../errors.ts";

/** A page cursor: the sort key of the last row shown, opaque to callers. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return btoa(JSON.stringify(key)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeCursor(cursor: string | undefined, parts: number): unknown[] | null {
  if (cursor === undefined) return null;
  try {
    const key = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (
      Array.isArray(key) && key.length === parts &&
      key.every((k) => typeof k === "string" || typeof k === "number")
    ) return key;
  } catch {
    // Reported below.
  }
  throw new ValidationError("cursor is not a cursor this API returned", "cursor");
}
