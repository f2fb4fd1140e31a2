/** The frame of every admin page: head, navigation, language switch, sign-out. */
import type { ComponentChildren } from "preact";
import type { Lang, Translate } from "../lib/i18n/i18n.ts";
import { ALERT_TABS, ALERTS_SECTION } from "./alerts_nav.tsx";
import { Csrf } from "./field.tsx";

export interface LayoutProps {
  title: string;
  lang: Lang;
  t: Translate;
  /** Signed-in user, or null on the sign-in page. */
  user: { id: string; admin: boolean } | null;
  csrf: string;
  /** The current path and query, for the language switch to come back to. */
  here: string;
  /** Which navigation entry is current. */
  section?: string;
  styles: string[];
  /** The favicon's address (an SVG under /static). */
  icon: string;
  children: ComponentChildren;
}

export function Layout(props: LayoutProps) {
  const { t, user } = props;
  const nav: [string, string, string][] = [
    ["dashboard", "/admin", t("Dashboard")],
    ["new", "/admin/jobs/new", t("New job")],
    [ALERTS_SECTION, ALERT_TABS[0].href, t("Alerts")],
    ["workers", "/admin/workers", t("Workers")],
    ["hooks", "/admin/hooks", t("Inbound hooks")],
    ["credentials", "/admin/credentials", t("Credentials")],
    ["keys", "/admin/keys", t("API keys")],
  ];
  if (user?.admin) nav.push(["users", "/admin/users", t("Users")]);
  const other: Lang = props.lang === "ja" ? "en" : "ja";
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf-token" content={props.csrf} />
        <title>{`${props.title} · Hibiki`}</title>
        <link rel="icon" type="image/svg+xml" href={props.icon} />
        {props.styles.map((href) => <link key={href} rel="stylesheet" href={href} />)}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/admin">響 Hibiki</a>
          {user && (
            <nav aria-label={t("Main")}>
              {nav.map(([key, href, label]) => (
                <a href={href} aria-current={props.section === key ? "page" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
          )}
          <div class="top-end">
            <a
              class="lang"
              href={`/admin/lang?to=${other}&back=${encodeURIComponent(props.here)}`}
              hreflang={other}
              lang={other}
            >
              {other === "ja" ? "日本語" : "English"}
            </a>
            {user && (
              <>
                <a href="/admin/account" class="who">{user.id}</a>
                <form method="post" action="/admin/logout" class="inline">
                  <Csrf token={props.csrf} />
                  <button type="submit" class="link">{t("Sign out")}</button>
                </form>
              </>
            )}
          </div>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

export function Flash({ kind, children }: { kind: "ok" | "error"; children: ComponentChildren }) {
  return (
    <div class={`flash flash-${kind}`} role={kind === "error" ? "alert" : "status"}>{children}</div>
  );
}
