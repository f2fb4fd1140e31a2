import assert from "node:assert/strict";
import { pickLanguage, translator } from "./i18n.ts";
import { ja } from "./ja.ts";

Deno.test("pickLanguage() prefers the cookie, then Accept-Language by weight", () => {
  assert.equal(pickLanguage("ja", "en-US"), "ja");
  assert.equal(pickLanguage(undefined, "fr;q=1, ja-JP;q=0.8, en;q=0.5"), "ja");
  assert.equal(pickLanguage(undefined, "en-GB, ja;q=0.9"), "en");
  assert.equal(pickLanguage(undefined, "de"), "en");
  assert.equal(pickLanguage("xx", undefined), "en");
});

Deno.test("translator() fills in values and falls back to English", () => {
  const t = translator("ja");
  assert.equal(t("Sign in"), ja["Sign in"]);
  assert.equal(t("No such text {n}", { n: 3 }), "No such text 3");
});

Deno.test("every text the admin pages translate has a Japanese version", async () => {
  const missing = new Set<string>();
  const pattern = /(?:\bt|get\("t"\))\(\s*"((?:[^"\\]|\\.)*)"/g;
  for (const dir of ["routes/admin", "components", "islands"]) {
    for await (const entry of Deno.readDir(dir)) {
      if (!/\.tsx?$/.test(entry.name)) continue;
      const source = await Deno.readTextFile(`${dir}/${entry.name}`);
      for (const match of source.matchAll(pattern)) {
        const text = JSON.parse(`"${match[1]}"`);
        if (!(text in ja)) missing.add(text);
      }
    }
  }
  assert.deepEqual([...missing], []);
});
