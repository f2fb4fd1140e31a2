/** Renders an admin page: the layout, the body, and the scripts of the islands it used. */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { collectIslands } from "../../components/island.tsx";
import { Layout } from "../../components/layout.tsx";
import { PageClockContext } from "../../components/page_clock.tsx";
import type { Assets } from "./assets.ts";
import type { AdminContext } from "./context.ts";

export interface PageOptions {
  title: string;
  section?: string;
  status?: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 429;
  /** Signed-out pages (sign-in) pass false. */
  signedIn?: boolean;
}

export function renderPage(
  c: AdminContext,
  assets: Assets,
  options: PageOptions,
  body: VNode,
): Response {
  const url = new URL(c.req.url);
  const user = options.signedIn === false ? null : c.get("user");
  // An error before the language middleware ran has no clock yet: the page shows no times.
  const clock = {
    lang: c.get("lang") ?? "en",
    now: c.get("now") ?? Date.now(),
    zone: c.get("zone") ?? null,
  };
  const { result, islands } = collectIslands(() =>
    renderToString(
      <Layout
        title={options.title}
        lang={c.get("lang")}
        t={c.get("t")}
        user={user ? { id: user.id, admin: user.admin } : null}
        csrf={c.get("csrf")}
        here={url.pathname + url.search}
        section={options.section}
        styles={[assets.url("admin.css")]}
        icon={assets.url("favicon.svg")}
      >
        <PageClockContext.Provider value={clock}>{body}</PageClockContext.Provider>
      </Layout>,
    )
  );
  const scripts = islands.map((name) =>
    `<script type="module" src="${assets.url(`build/${name}.js`)}"></script>`
  ).join("");
  const html = `<!DOCTYPE html>${result.replace("</body>", `${scripts}</body>`)}`;
  c.header("Cache-Control", "no-store");
  return c.html(html, options.status ?? 200);
}
