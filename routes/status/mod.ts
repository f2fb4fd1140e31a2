/**
 * The public status pages, no sign-in (issue 13): `/status/:slug` (HTML, English or Japanese
 * by `?lang=` or Accept-Language), `/status/:slug.json` (the same data), and shields-style
 * badges `/status/:slug/badge.svg` (overall) and `/status/:slug/badge/:jobId.svg?type=status|uptime`.
 *
 * Each answer is rendered once per built view (lib/status/status_board.ts) and kept with it,
 * gzipped too; `Cache-Control: public, no-cache` with an ETag lets browsers and proxies keep a
 * copy but ask each time, so a job taken off a page is gone from every answer at once.
 */
import { type Context, Hono } from "hono";
import { type Lang, pickLanguage } from "../../lib/i18n/i18n.ts";
import type { StatusBoard, StatusView } from "../../lib/status/status_board.ts";
import type { Assets } from "../admin/assets.ts";
import { errorBody } from "../middleware/errors.ts";
/** The badge maker (npm badge-maker and its fonts' widths), loaded at the first badge asked. */
const badges = () => import("../../components/status_badge.ts");
import { notFoundHtml, type Rendered, rendered, statusHtml } from "./render.tsx";

/** What a slug can be (lib/status/status_page_input.ts): anything else is not looked up. */
const SLUG = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;
const SVG = "image/svg+xml; charset=utf-8";

export const STATUS_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export interface PublicStatusDeps {
  board: StatusBoard;
  assets: Assets;
}

export function publicStatusRoutes(deps: PublicStatusDeps): Hono {
  const { board, assets } = deps;
  const app = new Hono();
  // Renderings of a view live as long as it does: a new build starts afresh.
  const renders = new WeakMap<StatusView, Map<string, Rendered>>();
  const cached = (view: StatusView, key: string, make: () => Rendered): Rendered => {
    let byKey = renders.get(view);
    if (!byKey) renders.set(view, byKey = new Map());
    let found = byKey.get(key);
    if (!found) byKey.set(key, found = make());
    return found;
  };

  app.use("*", async function publicHeaders(c, next) {
    await next();
    c.header("Content-Security-Policy", STATUS_CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
  });

  const lookUp = (slug: string) => SLUG.test(slug) ? board.view(slug) : Promise.resolve(null);

  app.get("/:name", async (c) => {
    const name = c.req.param("name");
    const json = name.endsWith(".json");
    const view = await lookUp(json ? name.slice(0, -".json".length) : name);
    if (json) {
      if (!view) return c.json(errorBody("NOT_FOUND", "Status page not found"), 404);
      return send(
        c,
        cached(view, "json", () => rendered(JSON.stringify(view), "application/json")),
      );
    }
    const lang = languageOf(c);
    if (!view) return notFound(c, lang);
    const html = cached(view, `html:${lang}`, () => statusHtml(view, lang, stylesheet()));
    return send(c, html, "Accept-Language, Accept-Encoding");
  });

  app.get("/:slug/badge.svg", async (c) => {
    const { notFoundBadge, overallBadge } = await badges();
    const view = await lookUp(c.req.param("slug"));
    if (!view) return c.body(notFoundBadge(), 404, { "Content-Type": SVG });
    return send(c, cached(view, "badge", () => rendered(overallBadge(view.overall), SVG)));
  });

  app.get("/:slug/badge/:file", async (c) => {
    const { notFoundBadge, stateBadge, uptimeBadge } = await badges();
    const file = c.req.param("file");
    const type = c.req.query("type") ?? "status";
    const view = file.endsWith(".svg") && (type === "status" || type === "uptime")
      ? await lookUp(c.req.param("slug"))
      : null;
    const jobId = file.slice(0, -".svg".length);
    const job = view?.groups.flatMap((g) => g.jobs).find((j) => j.id === jobId);
    if (!view || !job) return c.body(notFoundBadge(), 404, { "Content-Type": SVG });
    return send(
      c,
      cached(view, `badge:${type}:${jobId}`, () =>
        rendered(
          type === "uptime"
            ? uptimeBadge(job.name, job.uptime["90d"])
            : stateBadge(job.name, job.state),
          SVG,
        )),
    );
  });

  app.notFound((c) => notFound(c, languageOf(c)));
  app.onError((error, c) => {
    console.error(`Cannot answer ${c.req.method} ${c.req.path.slice(0, 200)}:`, error);
    return c.text("Internal server error", 500);
  });

  function stylesheet(): string {
    return assets.url("status.css");
  }

  function notFound(c: Context, lang: Lang): Response {
    c.header("Cache-Control", "no-store");
    return c.html(notFoundHtml(lang, stylesheet()), 404);
  }

  return app;
}

function languageOf(c: Context): Lang {
  const asked = c.req.query("lang");
  if (asked === "ja" || asked === "en") return asked;
  return pickLanguage(undefined, c.req.header("accept-language"));
}

function send(c: Context, answer: Rendered, vary = "Accept-Encoding"): Response {
  c.header("Cache-Control", "public, no-cache");
  c.header("Vary", vary);
  c.header("ETag", answer.etag);
  if (c.req.header("if-none-match") === answer.etag) return c.body(null, 304);
  c.header("Content-Type", answer.type);
  if (answer.gzipped && /\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
    c.header("Content-Encoding", "gzip");
    return c.body(answer.gzipped);
  }
  return c.body(answer.body);
}
