/**
 * Browser side of islands: finds the marker elements the server rendered for one island
 * (`data-island`, see components/island.tsx) and hydrates each with its props. It also tells
 * the server the browser's time zone (a cookie), so pages drawn later show times on the
 * viewer's clock even where they run no script.
 */
import { type ComponentType, h, hydrate } from "preact";
import { browserZone, ZONE_COOKIE } from "../components/relative_time.ts";

let zoneTold = false;

export function mount<P>(name: string, component: ComponentType<P>): void {
  if (!zoneTold) tellZone();
  for (const element of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    const props = JSON.parse(element.dataset.props ?? "{}") as P;
    hydrate(h(component as ComponentType<object>, props as object), element);
  }
}

/** Over https the name takes the `__Host-` prefix, as the server's cookies do (cookies.ts). */
function tellZone(): void {
  zoneTold = true;
  const zone = browserZone();
  if (!zone) return;
  const https = location.protocol === "https:";
  document.cookie = `${https ? "__Host-" : ""}${ZONE_COOKIE}=${zone};path=/;max-age=31536000;` +
    `samesite=lax${https ? ";secure" : ""}`;
}
