/** A required text field of a channel config: "is required" when absent, else "must be text". */
import { z } from "zod";

export function textField(): z.ZodString {
  return z.string({
    error: (issue) => issue.input === undefined ? "is required" : "must be text",
  });
}
