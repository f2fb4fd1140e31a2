import assert from "node:assert/strict";
import { relativeTime, timeTitle } from "./relative_time.ts";

const NOW = Date.parse("2026-11-23T14:55:30Z");
const ago = (seconds: number) => NOW - seconds * 1000;

Deno.test("relativeTime() says how long ago or ahead, in the page's language", () => {
  assert.equal(relativeTime(ago(3 * 60), NOW, "en"), "3 minutes ago");
  assert.equal(relativeTime(ago(3 * 60 + 40), NOW, "en"), "4 minutes ago");
  assert.equal(relativeTime(ago(-5 * 60), NOW, "en"), "in 5 minutes");
  assert.equal(relativeTime(ago(2), NOW, "en"), "now");
  assert.equal(relativeTime(ago(30), NOW, "en"), "30 seconds ago");
  assert.equal(relativeTime(ago(2 * 3600), NOW, "en"), "2 hours ago");
  assert.equal(relativeTime(ago(3 * 86_400), NOW, "en"), "3 days ago");
  assert.equal(relativeTime(ago(70 * 86_400), NOW, "en"), "2 months ago");
  assert.equal(relativeTime(ago(800 * 86_400), NOW, "en"), "2 years ago");
  assert.equal(relativeTime(ago(3 * 60), NOW, "ja"), "3 分前");
  assert.equal(relativeTime(ago(-5 * 60), NOW, "ja"), "5 分後");
});

Deno.test("timeTitle() gives the viewer's wall clock with its zone, then UTC", () => {
  const at = Date.parse("2026-11-23T14:52:30Z");
  assert.equal(
    timeTitle(at, "Asia/Tokyo"),
    "2026-11-23 23:52:30 +09:00 (Asia/Tokyo)\n2026-11-23 14:52:30 UTC",
  );
  // Zone not known yet (no page with a script seen): UTC alone, said once.
  assert.equal(timeTitle(at, null), "2026-11-23 14:52:30 UTC");
  assert.equal(timeTitle(at, "UTC"), "2026-11-23 14:52:30 UTC");
});
