/** The page around the hook form: a new hook, or an existing one being edited. */
import type { HookView } from "../lib/inbound/types.ts";
import { HookForm, type HookFormProps } from "./hook_form.tsx";
import { hookPath } from "./paths.ts";

export interface HookFormPageProps
  extends Pick<HookFormProps, "t" | "csrf" | "values" | "errors" | "formError" | "jobs"> {
  title: string;
  /** The hook being edited, or null for a new one. */
  hook: HookView | null;
}

export function HookFormPage({ t, csrf, title, hook, ...form }: HookFormPageProps) {
  return (
    <section class="narrow">
      <p class="crumbs">
        <a href={hook ? hookPath(hook.id) : "/admin/hooks"}>
          {hook ? hook.name : t("Inbound hooks")}
        </a>
      </p>
      <h1>{title}</h1>
      <HookForm
        t={t}
        csrf={csrf}
        action={hook ? `${hookPath(hook.id)}/edit` : "/admin/hooks/new"}
        values={form.values}
        errors={form.errors}
        formError={form.formError}
        jobs={form.jobs}
        editing={hook !== null}
        submitLabel={hook ? t("Save") : t("Create hook")}
      />
    </section>
  );
}
