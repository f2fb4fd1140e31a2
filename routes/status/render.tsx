/** The public status pages rendered to bytes (HTML, JSON, SVG), once per built view. */
import { gzipSync } from "node:zlib";
import { renderToString } from "preact-render-to-string";
import { StatusNotFound, StatusPage } from "../../components/status_page.tsx";
import type { Lang } from "../../lib/i18n/i18n.ts";
import { translator } from "../../lib/i18n/i18n.ts";
import type { StatusView } from "../../lib/status/status_board.ts";

export interface Rendered {
  body: Uint8Array<ArrayBuffer>;
  /** Gzipped once, for clients that take it; null for small bodies. */
  gzipped: Uint8Array<ArrayBuffer> | null;
  type: string;
  etag: string;
}

const encoder = new TextEncoder();
let serial = 0;

export function rendered(text: string, type: string): Rendered {
  const body = encoder.encode(text);
  return {
    body,
    gzipped: body.length > 1024 ? new Uint8Array(gzipSync(body, { level: 6 })) : null,
    type,
    // Unique per rendering: a new build or language is a new tag, the same one revalidates.
    etag: `"sp-${Date.now().toString(36)}-${(serial++).toString(36)}"`,
  };
}

export function statusHtml(view: StatusView, lang: Lang, stylesheet: string): Rendered {
  const html = renderToString(
    <StatusPage view={view} lang={lang} t={translator(lang)} stylesheet={stylesheet} />,
  );
  return rendered(`<!DOCTYPE html>${html}`, "text/html; charset=utf-8");
}

export function notFoundHtml(lang: Lang, stylesheet: string): string {
  const html = renderToString(
    <StatusNotFound lang={lang} t={translator(lang)} stylesheet={stylesheet} />,
  );
  return `<!DOCTYPE html>${html}`;
}
