import assert from "node:assert/strict";
import { retryBackoffMs } from "./probe_worker.ts";

Deno.test("retryBackoffMs() doubles from 1 s up to WORKER_RETRY_MAX_SECONDS, however high", () => {
  assert.deepEqual([1, 2, 3].map((n) => retryBackoffMs(n, 60_000)), [2000, 4000, 8000]);
  assert.equal(retryBackoffMs(6, 60_000), 60_000);
  assert.equal(retryBackoffMs(9, 600_000), 512_000);
  assert.equal(retryBackoffMs(50, 600_000), 600_000);
  assert.equal(retryBackoffMs(50, 3_600_000), 3_600_000);
});
