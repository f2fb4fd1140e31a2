/**
 * Input parsing shared by every API body: a zod schema, and the first problem turned into a
 * ValidationError that names the field (so the API and the admin forms show it beside it).
 */
import type { z } from "zod";
import { ValidationError } from "./errors.ts";

export interface IssueOptions {
  /** Where the parsed value sits in the request body (`cloudRun`); messages start there. */
  at?: string;
  /** Why a field a client may well send is refused, by its name: added after a colon. */
  hints?: Readonly<Record<string, string>>;
}

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("Request body must be a JSON object", null);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw issueError(parsed.error);
}

/**
 * The first issue of a failed parse as a ValidationError: `url is required`,
 * `expect has an unknown field "foo"`, `Unknown field "foo"` at the top level.
 */
export function issueError(error: z.ZodError, options: IssueOptions = {}): ValidationError {
  const issue = error.issues[0];
  const path = [...(options.at ? [options.at] : []), ...issue.path.map(String)];
  const where = path.join(".");
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.map((key) => `"${key}"`).join(", ");
    const fields = issue.keys.length === 1 ? `field ${names}` : `fields ${names}`;
    const hints = options.hints ?? {};
    const hint = issue.keys.filter((key) => Object.hasOwn(hints, key)).map((key) => hints[key])[0];
    const message = (where ? `${where} has an unknown ${fields}` : `Unknown ${fields}`) +
      (hint ? `: ${hint}` : "");
    return new ValidationError(message, path[0] ?? issue.keys[0]);
  }
  const field = path[0] ?? null;
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    return new ValidationError(`${where} is required`, field);
  }
  const message = issue.message.replace(/^Invalid input: /, "");
  return new ValidationError(where ? `${where} ${message}` : message, field);
}
