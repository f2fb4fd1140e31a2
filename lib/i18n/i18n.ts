/**
 * English and Japanese for the admin pages. Texts are keyed by their English wording, so a page
 * reads naturally and a missing translation falls back to English (a test lists any that are
 * missing). `{name}` marks a value filled in at use.
 */
import { ja } from "./ja.ts";

export const LANGUAGES = ["en", "ja"] as const;
export type Lang = (typeof LANGUAGES)[number];

export type Translate = (text: string, values?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  return (text, values) => {
    const template = lang === "ja" ? ja[text] ?? text : text;
    if (!values) return template;
    return template.replace(/\{(\w+)\}/g, (m, name) => name in values ? String(values[name]) : m);
  };
}

/** The language from the `lang` cookie, else the best match of Accept-Language, else English. */
export function pickLanguage(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (cookie === "en" || cookie === "ja") return cookie;
  const ranked = (acceptLanguage ?? "").split(",").map((part, i) => {
    const [tag, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())).find(Boolean);
    return { tag, q: q ? Number(q[1]) : 1, i };
  }).filter((x) => x.tag && x.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === "ja" || tag.startsWith("ja-")) return "ja";
    if (tag === "en" || tag.startsWith("en-")) return "en";
  }
  return "en";
}
