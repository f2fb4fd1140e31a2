/**
 * `/admin/hooks`: inbound endpoints: create, edit and delete them (a secret Hibiki makes is
 * shown once, in the answer to the form), each with a page of its events (hook_events.tsx
 * shows one).
 */
import { Hono } from "hono";
import { EMPTY_HOOK_FORM, type HookFormValues } from "../../components/hook_form.tsx";
import { HookFormPage } from "../../components/hook_form_page.tsx";
import { HookPage, type NewSecrets } from "../../components/hook_page.tsx";
import { HooksList } from "../../components/hooks_list.tsx";
import { NotFoundError, ValidationError } from "../../lib/errors.ts";
import type { HookView } from "../../lib/inbound/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf, requireConfirmed, splitFormError } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { hookCreateBody, hookFormValues, hookPatchBody, hookValues } from "./hook_form_data.ts";
import { renderPage } from "./render.tsx";

/** API fields shown beside their part of the form; others go above it. */
const FORM_FIELDS = new Set(["name", "verification", "action"]);

export function hookRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const originOf = (c: AdminContext) => new URL(c.req.url).origin;

  app.get("/", async (c) => {
    const t = c.get("t");
    const hooks = await deps.inbound.list(userOf(c), { limit: 100 });
    return renderPage(
      c,
      deps.assets,
      { title: t("Inbound hooks"), section: "hooks" },
      <HooksList t={t} hooks={hooks.values} origin={originOf(c)} />,
    );
  });

  const showHook = async (
    c: AdminContext,
    hook: HookView,
    secrets: NewSecrets = {},
    notice?: string,
  ) => {
    const events = await deps.inbound.listEvents(userOf(c), hook.id, {
      limit: 50,
      cursor: c.req.query("cursor") || undefined,
    });
    return renderPage(
      c,
      deps.assets,
      { title: hook.name, section: "hooks" },
      <HookPage
        t={c.get("t")}
        csrf={c.get("csrf")}
        hook={hook}
        events={events}
        origin={originOf(c)}
        secrets={secrets}
        notice={notice}
      />,
    );
  };

  const showForm = async (
    c: AdminContext,
    options: { hook: HookView | null; values: HookFormValues; error?: ValidationError },
  ) => {
    const t = c.get("t");
    const { hook, error } = options;
    const { errors, formError } = splitFormError(error, FORM_FIELDS);
    const jobs = (await deps.jobs.list(userOf(c), { limit: 200 })).values.map((j) => ({
      id: j.id,
      name: j.name,
    }));
    const title = hook ? t("Edit {name}", { name: hook.name }) : t("New hook");
    return renderPage(
      c,
      deps.assets,
      { title, section: "hooks", status: error ? 400 : 200 },
      <HookFormPage
        t={t}
        csrf={c.get("csrf")}
        title={title}
        hook={hook}
        values={options.values}
        errors={errors}
        formError={formError}
        jobs={jobs}
      />,
    );
  };

  /** A refusal the user can act on: a validation error, or the job to run not found. */
  const asFormError = (error: unknown, values: HookFormValues): ValidationError | null => {
    if (error instanceof ValidationError) return error;
    if (error instanceof NotFoundError && values.actionType === "run") {
      return new ValidationError(error.message, "action");
    }
    return null;
  };

  app.get("/new", (c) => showForm(c, { hook: null, values: EMPTY_HOOK_FORM }));
  app.post("/new", async (c) => {
    const values = hookFormValues(await formOf(c));
    try {
      const hook = await deps.inbound.create(userOf(c), hookCreateBody(values));
      return showHook(c, hook, {
        verification: values.mode !== "none" && values.secret === ""
          ? hook.verification.secret
          : undefined,
        relay: hook.action.secret,
      }, c.get("t")("Hook created. Send requests to its URL."));
    } catch (error) {
      const refusal = asFormError(error, values);
      if (!refusal) throw error;
      return showForm(c, { hook: null, values: { ...values, secret: "" }, error: refusal });
    }
  });
  app.get("/:id", async (c) => showHook(c, await deps.inbound.get(userOf(c), c.req.param("id"))));
  app.get("/:id/edit", async (c) => {
    const hook = await deps.inbound.get(userOf(c), c.req.param("id"));
    return showForm(c, { hook, values: hookValues(hook) });
  });
  app.post("/:id/edit", async (c) => {
    const current = await deps.inbound.get(userOf(c), c.req.param("id"));
    const values = hookFormValues(await formOf(c));
    try {
      const body = hookPatchBody(values, current);
      const hook = await deps.inbound.update(userOf(c), current.id, body);
      const madeSecret = body.verification !== undefined && values.mode !== "none" &&
        values.secret === "";
      return showHook(c, hook, {
        verification: madeSecret ? hook.verification.secret : undefined,
        relay: current.action.type !== "relay" ? hook.action.secret : undefined,
      }, c.get("t")("Hook saved."));
    } catch (error) {
      const refusal = asFormError(error, values);
      if (!refusal) throw error;
      return showForm(c, { hook: current, values: { ...values, secret: "" }, error: refusal });
    }
  });
  app.post("/:id/delete", async (c) => {
    const hook = await deps.inbound.get(userOf(c), c.req.param("id"));
    await requireConfirmed(c);
    await deps.inbound.delete(userOf(c), hook.id);
    return c.redirect("/admin/hooks", 303);
  });
  return app;
}
