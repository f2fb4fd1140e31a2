import assert from "node:assert/strict";
import { formatP95 } from "./format.ts";

Deno.test("formatP95 shows a bucket bound, and past the last bucket says so once", () => {
  assert.equal(formatP95(null), "—");
  assert.equal(formatP95(250), "≤ 250 ms");
  assert.equal(formatP95(2500), "≤ 2.50 s");
  assert.equal(formatP95(Infinity), "> 60 s");
  assert.equal(formatP95(-1), "> 60 s");
});
