/**
 * Input parsing shared by every API body: a zod schema, and the first problem turned into a
 * ValidationError that names the field (so the API and the admin forms show it beside it).
 */
import type { z } from "zod";
import { ValidationError } from "./errors.ts";

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("Request body must be a JSON object", null);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    return unknownField(where ? `${where}.${key}` : key, String(issue.path[0] ?? key));
  }
  const field = issue.path.length > 0 ? String(issue.path[0]) : null;
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    throw new ValidationError(`${where} is required`, field);
  }
  const message = issue.message.replace(/^Invalid input: /, "");
  throw new ValidationError(where ? `${where} ${message}` : message, field);
}

function unknownField(name: string, field: string): never {
  throw new ValidationError(`Unknown field "${name}"`, field);
}
