/**
 * The page around the maintenance form: a new window, or an existing one with its state, the
 * button that ends it now, and the delete box.
 */
import type { MaintenanceView } from "../lib/alerts/maintenance.ts";
import { AlertTabs } from "./alerts_nav.tsx";
import { Csrf, DangerZone } from "./field.tsx";
import { MaintenanceForm, type MaintenanceFormProps } from "./maintenance_form.tsx";
import { maintenancePath } from "./paths.ts";

export interface MaintenanceFormPageProps extends
  Pick<
    MaintenanceFormProps,
    "t" | "csrf" | "values" | "errors" | "formError" | "jobs" | "version" | "now"
  > {
  title: string;
  /** The window being edited, or null for a new one. */
  window: MaintenanceView | null;
}

export function MaintenanceFormPage({ title, window, ...form }: MaintenanceFormPageProps) {
  const { t, csrf } = form;
  const base = window ? maintenancePath(window.id) : null;
  return (
    <section class="narrow">
      <AlertTabs t={t} current="maintenance" />
      <p class="crumbs">
        <a href="/admin/maintenance">{t("Maintenance windows")}</a>
      </p>
      <h1>{title}</h1>
      {window && window.status !== "ended" && (
        <form method="post" action={`${base}/end`} class="end-window">
          <Csrf token={csrf} />
          <p class="hint">
            {window.schedule === null
              ? t("The work is done? End the window now and watch the jobs again.")
              : t(
                "Ending a repeating window stops its later times too; saving a new schedule starts it again.",
              )}
          </p>
          <button type="submit">{t("End now")}</button>
        </form>
      )}
      <MaintenanceForm
        {...form}
        action={base ? `${base}/edit` : "/admin/maintenance/new"}
        fixedKind={window ? (window.schedule === null ? "once" : "recurring") : undefined}
        windowKey={window?.id ?? "new"}
        submitLabel={window ? t("Save") : t("Create window")}
      />
      {base && (
        <DangerZone
          action={`${base}/delete`}
          csrf={csrf}
          title={t("Delete this window")}
          confirm={t("Covered jobs are watched again at once")}
          button={t("Delete window")}
        />
      )}
    </section>
  );
}
