/**
 * Validation of status pages from the API: the body's shape with zod, then what a schema
 * cannot say (a job listed twice, too many jobs on one page). Every rejection names its field.
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { parseBody } from "../validation.ts";
import type { StatusPage } from "./types.ts";

/** Jobs on one page at most: the page answers from one batch of reads (see status_board.ts). */
export const MAX_PAGE_JOBS = 200;
export const MAX_GROUPS = 20;

/**
 * Slugs that read as part of Hibiki's own addresses or as an official page of the operator's
 * ("admin", "login"), refused so a tenant cannot publish a page that looks like one.
 */
export const RESERVED_SLUGS = new Set([
  "admin",
  "api",
  "app",
  "assets",
  "badge",
  "badges",
  "dashboard",
  "docs",
  "edit",
  "functions",
  "health",
  "healthz",
  "help",
  "hibiki",
  "hooks",
  "json",
  "login",
  "logout",
  "metrics",
  "new",
  "official",
  "ping",
  "root",
  "settings",
  "signin",
  "signup",
  "static",
  "status",
  "support",
  "system",
  "www",
]);

const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

const slug = z.string({ error: "must be text" })
  .min(3, "must be 3 to 64 characters")
  .max(64, "must be 3 to 64 characters")
  .regex(SLUG, "must be lowercase letters, digits and hyphens, not starting or ending with one")
  .refine((value) => !RESERVED_SLUGS.has(value), "is reserved: choose another");

const fields = {
  slug,
  title: z.string({ error: "must be text" }).trim().min(1, "must not be empty")
    .max(100, "must be at most 100 characters"),
  description: z.string({ error: "must be text" }).trim()
    .max(1000, "must be at most 1000 characters").nullable(),
  groups: z.array(
    z.object({
      name: z.string({ error: "must be text" }).trim().min(1, "must not be empty")
        .max(100, "must be at most 100 characters"),
      jobIds: z.array(
        z.string({ error: "must hold job ids" }).min(1, "must not hold an empty id").max(100),
        { error: "must be a list of job ids" },
      ).max(MAX_PAGE_JOBS, `must list at most ${MAX_PAGE_JOBS} jobs`),
    }).strict(),
    { error: "must be a list of groups" },
  ).max(MAX_GROUPS, `must have at most ${MAX_GROUPS} groups`),
};

const bodySchema = z.object(fields).partial().strict();

/** What a page's owner may set; the rest of the record is the service's. */
export type PageFields = Pick<StatusPage, "slug" | "title" | "description" | "groups">;

export function parsePageInput(body: unknown): PageFields {
  const input = parseBody(bodySchema, body);
  for (const name of ["slug", "title", "groups"] as const) {
    if (input[name] === undefined) throw new ValidationError(`${name} is required`, name);
  }
  return checked({
    slug: input.slug!,
    title: input.title!,
    description: input.description || null,
    groups: input.groups!,
  });
}

export function parsePagePatch(body: unknown, current: StatusPage): PageFields {
  const input = parseBody(bodySchema, body);
  return checked({
    slug: input.slug ?? current.slug,
    title: input.title ?? current.title,
    description: input.description === undefined ? current.description : input.description || null,
    groups: input.groups ?? current.groups,
  });
}

function checked(fields: PageFields): PageFields {
  const seen = new Set<string>();
  for (const group of fields.groups) {
    for (const jobId of group.jobIds) {
      if (seen.has(jobId)) {
        throw new ValidationError(
          `groups must list each job once: "${jobId}" is listed twice`,
          "groups",
        );
      }
      seen.add(jobId);
    }
  }
  if (seen.size > MAX_PAGE_JOBS) {
    throw new ValidationError(`groups must list at most ${MAX_PAGE_JOBS} jobs in all`, "groups");
  }
  return fields;
}

/** Every job a page lists, in the page's order. */
export function jobIdsOf(page: Pick<StatusPage, "groups">): string[] {
  return page.groups.flatMap((group) => group.jobIds);
}
