/** `/admin/hooks`: every inbound endpoint with its URL, how it verifies and what it does. */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { HookView } from "../lib/inbound/types.ts";
import { hookPath } from "./paths.ts";

export interface HooksListProps {
  t: Translate;
  hooks: HookView[];
  /** This server's origin, in front of each hook's path. */
  origin: string;
}

export function HooksList({ t, hooks, origin }: HooksListProps) {
  return (
    <section>
      <h1>{t("Inbound hooks")}</h1>
      <div class="heading">
        <p class="hint">
          {t("Endpoints that receive webhooks from other services.")}
        </p>
        <div class="actions">
          <a class="button primary" href="/admin/hooks/new">{t("New hook")}</a>
        </div>
      </div>
      {hooks.length === 0 ? <p class="empty">{t("No hooks yet.")}</p> : (
        <div class="scroll-x">
          <table>
            <thead>
              <tr>
                <th>{t("Name")}</th>
                <th>{t("URL")}</th>
                <th>{t("Verification")}</th>
                <th>{t("Action")}</th>
                <th class="num">{t("Received")}</th>
                <th class="num">{t("Refused")}</th>
              </tr>
            </thead>
            <tbody>
              {hooks.map((hook) => (
                <tr>
                  <td>
                    <a href={hookPath(hook.id)}>{hook.name}</a>
                    {!hook.enabled && <small>{t("Disabled")}</small>}
                  </td>
                  <td>
                    <code>{origin}{hook.path}</code>
                  </td>
                  <td>{hook.verification.mode}</td>
                  <td>{hook.action.type}</td>
                  <td class="num">{hook.received}</td>
                  <td class="num">{hook.rejected}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
