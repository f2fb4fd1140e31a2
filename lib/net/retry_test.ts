import assert from "node:assert/strict";
import { parseRetryAfter, RETRY_AFTER_CAP_MS, retryDelay } from "./retry.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const schedule = [5_000, 30_000];

Deno.test("retryDelay() follows the schedule within ±10 % jitter, then gives up", () => {
  const at = (jitter: number, before = 0) =>
    retryDelay(schedule, before, { retryAfter: null, now: NOW, jitter: () => jitter });
  assert.equal(at(0), 5_000);
  assert.equal(at(-1), 4_500);
  assert.equal(at(0.999), 5_500);
  assert.equal(at(0, 1), 30_000);
  assert.equal(at(0, 2), null);
});

Deno.test("retryDelay() honours Retry-After, never sooner than the schedule, up to 12 h", () => {
  const at = (retryAfter: string) =>
    retryDelay(schedule, 0, { retryAfter, now: NOW, jitter: () => 0 });
  assert.equal(at("120"), 120_000);
  assert.equal(at("1"), 5_000);
  assert.equal(at(new Date(NOW + 60_000).toUTCString()), 60_000);
  assert.equal(at(String(7 * 86_400)), RETRY_AFTER_CAP_MS);
  assert.equal(at("soon"), 5_000);
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates, and nothing else", () => {
  assert.equal(parseRetryAfter(" 30 ", NOW), 30_000);
  assert.equal(parseRetryAfter(new Date(NOW - 5_000).toUTCString(), NOW), 0);
  assert.equal(parseRetryAfter(undefined, NOW), null);
  assert.equal(parseRetryAfter("soon", NOW), null);
});
