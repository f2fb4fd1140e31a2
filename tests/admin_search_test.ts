/** The dashboard's search and filters, answered from indexes (lib/store/kv/job_index.ts). */
import assert from "node:assert/strict";
import { nameWords } from "../lib/store/job_words.ts";
import type { ProbeRequest } from "../lib/net/probe.ts";
import { buildStore } from "./build.ts";
import type { JobState } from "../lib/store/types.ts";
import { okProbe, T0, TestSystem } from "./helpers.ts";

const names = (page: { values: { job: { name: string } }[] }) =>
  page.values.map((s) => s.job.name).sort();

Deno.test("nameWords() splits names into lower-case words of any script", () => {
  assert.deepEqual(nameWords("API health: Tokyo-1"), ["api", "health", "tokyo", "1"]);
  assert.deepEqual(nameWords("決済 API の監視"), ["決済", "api", "の監視"]);
  assert.deepEqual(nameWords("<img src=x onerror=alert(1)>"), [
    "img",
    "src",
    "x",
    "onerror",
    "alert",
    "1",
  ]);
});

Deno.test("search finds jobs by the start of each word, and follows renames and deletes", async () => {
  await using s = await TestSystem.start();
  const billing = await s.createJob({ name: "Billing export" });
  await s.createJob({ name: "API health Tokyo" });
  await s.createJob({ name: "API health Osaka" });
  await s.createJob({ name: "Search warm-up" });
  const store = buildStore(s.kv, s.clock);
  const search = (q: string) => store.searchJobs("default", { q, limit: 50 });
  assert.deepEqual(names(await search("api")), ["API health Osaka", "API health Tokyo"]);
  assert.deepEqual(names(await search("HEAL tok")), ["API health Tokyo"]);
  assert.deepEqual(names(await search("warm")), ["Search warm-up"]);
  assert.deepEqual(names(await search("ealth")), []);
  await s.call("PATCH", `/api/jobs/${billing.id}`, { body: { name: "Invoices export" } });
  assert.deepEqual(names(await search("billing")), []);
  assert.deepEqual(names(await search("invoice")), ["Invoices export"]);
  await s.call("DELETE", `/api/jobs/${billing.id}`);
  assert.deepEqual(names(await search("invoice")), []);
  // Another tenant's jobs are not found.
  assert.deepEqual(names(await store.searchJobs("acme", { q: "api", limit: 50 })), []);
});

Deno.test("search pages with a cursor", async () => {
  await using s = await TestSystem.start();
  for (let i = 0; i < 7; i++) await s.createJob({ name: `Probe ${i}` });
  await s.createJob({ name: "Other" });
  const store = buildStore(s.kv, s.clock);
  const first = await store.searchJobs("default", { q: "probe", limit: 5 });
  assert.equal(first.values.length, 5);
  assert.ok(first.cursor);
  const second = await store.searchJobs("default", {
    q: "probe",
    limit: 5,
    cursor: first.cursor!,
  });
  assert.equal(second.values.length, 2);
  assert.equal(second.cursor, null);
});

Deno.test("the state filter follows the decided alert state and pausing, and counts it", async () => {
  let failing = new Set<string>();
  await using s = await TestSystem.start({
    probe: (request: ProbeRequest) =>
      failing.has(request.url) ? { ...okProbe(), success: false, code: 500 } : okProbe(),
  });
  const good = await s.createJob({ name: "Good one", url: "https://good.example/" });
  const bad = await s.createJob({ name: "Bad one", url: "https://bad.example/" });
  const idle = await s.createJob({ name: "Idle one", url: "https://idle.example/" });
  const store = buildStore(s.kv, s.clock);
  const inState = (state: JobState, q?: string) =>
    store.searchJobs("default", { state, q, limit: 50 });
  assert.deepEqual(names(await inState("pending")), ["Bad one", "Good one", "Idle one"]);
  failing = new Set(["https://bad.example/"]);
  for (const job of [good, bad]) await s.call("POST", `/api/jobs/${job.id}/run`);
  await s.settle();
  // A daily job's default: one failing interval opens its incident.
  assert.deepEqual(names(await inState("up")), ["Good one"]);
  assert.deepEqual(names(await inState("down")), ["Bad one"]);
  assert.deepEqual(names(await inState("down", "good")), []);
  assert.deepEqual(names(await inState("up", "good")), ["Good one"]);
  await s.call("PATCH", `/api/jobs/${idle.id}`, { body: { enabled: false } });
  await s.call("PATCH", `/api/jobs/${good.id}`, { body: { enabled: false } });
  assert.deepEqual(names(await inState("paused")), ["Good one", "Idle one"]);
  assert.deepEqual(names(await inState("up")), []);
  assert.deepEqual(await store.countJobStates("default"), {
    pending: 0,
    up: 0,
    degraded: 0,
    down: 1,
    paused: 2,
    maintenance: 0,
  });
  // The next day's interval passes: resolved, up again.
  failing = new Set();
  s.clock.set(T0 + 86_400_000);
  await s.call("POST", `/api/jobs/${bad.id}/run`);
  await s.settle();
  assert.deepEqual(names(await inState("down")), []);
  assert.deepEqual(names(await inState("up")), ["Bad one"]);
  // Resumed: shown as its alert state again (up, decided before the pause).
  await s.call("PATCH", `/api/jobs/${good.id}`, { body: { enabled: true } });
  assert.deepEqual(names(await inState("up")), ["Bad one", "Good one"]);
  assert.deepEqual((await store.countJobStates("default")).up, 2);
});
