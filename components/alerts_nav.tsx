/**
 * The Alerts section: one entry in the main navigation, and tabs across the top of each of its
 * pages. A new alerting page is one more row in ALERT_TABS; the first row is where the main
 * navigation's Alerts link goes: the incidents, what someone clicking "Alerts" wants first.
 */
import type { Translate } from "../lib/i18n/i18n.ts";

export interface AlertTab {
  key: string;
  href: string;
  /** English label, translated where shown. */
  label: string;
}

export const ALERT_TABS: readonly AlertTab[] = [
  { key: "incidents", href: "/admin/incidents", label: "Incidents" },
  { key: "channels", href: "/admin/channels", label: "Notification channels" },
  { key: "maintenance", href: "/admin/maintenance", label: "Maintenance" },
];

/** The section key the layout marks as current on every alerting page. */
export const ALERTS_SECTION = "alerts";

export function AlertTabs({ t, current }: { t: Translate; current: string }) {
  return (
    <nav class="tabs" aria-label={t("Alerts")}>
      {ALERT_TABS.map((tab) => (
        <a key={tab.key} href={tab.href} aria-current={tab.key === current ? "page" : undefined}>
          {t(tab.label)}
        </a>
      ))}
    </nav>
  );
}
