/**
 * `/static/*`: the admin stylesheet, favicon and island bundles, from memory, cached by content
 * hash; and `/favicon.ico` for clients that ask for it without reading a page.
 */
import { type Handler, Hono } from "hono";
import type { Assets } from "./assets.ts";
import { securityHeaders } from "./security_headers.ts";

export function staticRoutes(assets: Assets): Hono {
  const app = new Hono();
  app.use("*", securityHeaders());
  app.get("/*", (c) => {
    const path = decodeURIComponent(c.req.path.replace(/^\/static\//, ""));
    const asset = path.includes("..") ? null : assets.get(path);
    if (!asset) return c.text("Not found", 404);
    const etag = `"${asset.hash}"`;
    const versioned = c.req.query("v") === asset.hash;
    c.header("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache");
    c.header("ETag", etag);
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    c.header("Content-Type", asset.type);
    c.header("Vary", "Accept-Encoding");
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      c.header("Content-Encoding", "gzip");
      return c.body(asset.gzipped as Uint8Array<ArrayBuffer>);
    }
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });
  return app;
}

/**
 * `/favicon.ico`: the SVG favicon at the address browsers and tools try by default. No hash in
 * that address, so it is kept for a day rather than a year.
 */
export function favicon(assets: Assets): Handler {
  return function faviconHandler(c) {
    const asset = assets.get("favicon.svg");
    if (!asset) return c.text("Not found", 404);
    c.header("Content-Type", asset.type);
    c.header("Cache-Control", "public, max-age=86400");
    c.header("X-Content-Type-Options", "nosniff");
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  };
}
