/** Request headers as the admin forms edit them: one "Name: value" per line. */
import { ValidationError } from "../../lib/errors.ts";

export function headerLines(headers: Record<string, string> | null | undefined): string {
  return Object.entries(headers ?? {}).map(([name, value]) => `${name}: ${value}`).join("\n");
}

/** Reads the lines back; a line that is not "Name: value" fails naming `label` and `field`. */
export function parseHeaderLines(
  text: string,
  label: string,
  field: string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new ValidationError(`${label} line "${line.slice(0, 60)}" is not "Name: value"`, field);
    }
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}
