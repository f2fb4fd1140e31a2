/**
 * The Store contract as tests: every store implementation runs this suite against a real
 * database (`kv/kv_store_test.ts` on a KV file; a Postgres store will run it too). Each step
 * gets fresh stores from `makeStores` and asserts behaviour through the contract alone.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { parseRunId, runId } from "./run_id.ts";
import type { NotificationRef, VersionedNotification } from "./alerts.ts";
import type { DueJob, FireClaim } from "./claims.ts";
import type { Lease } from "./lanes.ts";
import type { Retention, RunCompletion } from "./store.ts";
import type { Stores } from "./stores.ts";
import type {
  AlertDecision,
  DecidedAhead,
  DecideRequest,
  DecideValue,
  VersionedAlertState,
} from "./alert_items.ts";
import type {
  Channel,
  Incident,
  JobAlertState,
  MaintenanceWindow,
  Notification,
} from "../alerts/types.ts";
import type { StatusPage } from "../status/types.ts";
import { CHUNK_BYTES } from "./inbound.ts";
import type {
  ActionAttempt,
  ApiKey,
  Attempt,
  CheckResult,
  Delivery,
  FireValue,
  HookRecord,
  InboundEvent,
  Job,
  ResultChunk,
  Run,
  Worker,
} from "./types.ts";

export const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

export interface ContractStores extends Stores, AsyncDisposable {}

export type MakeStores = (options: {
  clock: ManualClock;
  retention: Retention;
}) => Promise<ContractStores>;

const RETENTION: Retention = { count: 1000, maxAgeMs: 30 * 86_400_000 };

export interface ContractOptions {
  /** Runs once after every step (a store shared between steps is released here). */
  after?: () => Promise<void>;
}

export function storeContract(
  name: string,
  makeStores: MakeStores,
  options: ContractOptions = {},
): void {
  const step = (
    t: Deno.TestContext,
    title: string,
    body: (s: ContractStores, clock: ManualClock) => Promise<void>,
    retention = RETENTION,
  ) =>
    t.step(title, async () => {
      const clock = new ManualClock(T0);
      await using stores = await makeStores({ clock, retention });
      await body(stores, clock);
    });

  Deno.test(`${name} keeps the Store contract`, async (t) => {
    try {
      await steps(t);
    } finally {
      await options.after?.();
    }
  });

  async function steps(t: Deno.TestContext): Promise<void> {
    await step(t, "a job is created once, read, listed and found by a word", async (s) => {
      const job = makeJob({ name: "API health: Tokyo" });
      await s.records.createJob(job, T0 + 60_000);
      await assert.rejects(() => s.records.createJob(job, null), ConflictError);
      const stored = await s.records.getJob("default", job.id);
      assert.deepEqual(stored, { job, count: 0, lastRunAt: null });
      assert.equal(await s.records.getJob("someone-else", job.id), null);
      await s.records.createJob(makeJob({ name: "Billing" }), null);
      const page = await s.records.listJobs("default", { limit: 10 });
      assert.deepEqual(page.values.map((v) => v.job.name).sort(), ["API health: Tokyo", "Billing"]);
      const found = await s.records.searchJobs("default", { q: "tok", limit: 10 });
      assert.deepEqual(found.values.map((v) => v.job.id), [job.id]);
    });

    await step(t, "updateJob is compare-and-set: concurrent changes all apply", async (s) => {
      const job = makeJob({ name: "n" });
      await s.records.createJob(job, T0 + 60_000);
      await Promise.all(
        Array.from({ length: 5 }, () =>
          s.records.updateJob("default", job.id, (current, due) => {
            assert.equal(due, T0 + 60_000);
            return { job: { ...current, name: `${current.name}+` }, firstFireAt: undefined };
          })),
      );
      assert.equal((await s.records.getJob("default", job.id))?.job.name, "n+++++");
      await assert.rejects(
        () => s.records.updateJob("default", "nope", (j) => ({ job: j, firstFireAt: undefined })),
        NotFoundError,
      );
    });

    await step(t, "a paused job is found by its state, a deleted one not at all", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      await s.records.updateJob("default", job.id, (j) => ({
        job: { ...j, enabled: false },
        firstFireAt: null,
      }));
      const paused = await s.records.searchJobs("default", { state: "paused", limit: 10 });
      assert.deepEqual(paused.values.map((v) => v.job.id), [job.id]);
      await s.records.deleteJob("default", job.id);
      assert.equal(await s.records.getJob("default", job.id), null);
      assert.deepEqual(
        (await s.records.searchJobs("default", { state: "paused", limit: 10 }))
          .values,
        [],
      );
      await assert.rejects(() => s.records.deleteJob("default", job.id), NotFoundError);
    });

    await step(t, "a run recorded twice at once is written and counted once", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      const completion = complete(run(job, T0, "success"));
      const written = await Promise.all([
        s.records.recordRun(completion),
        s.records.recordRun(structuredClone(completion)),
      ]);
      assert.deepEqual(written.sort(), [false, true]);
      assert.equal(await s.records.recordRun(completion), false);
      const stored = await s.records.getJob("default", job.id);
      assert.equal(stored?.count, 1);
      assert.equal(stored?.lastRunAt, T0);
      const runs = await s.records.listRuns("default", job.id, { limit: 10 });
      assert.deepEqual(runs.values, [completion.run]);
      assert.deepEqual(
        await s.records.getRun("default", job.id, completion.run.id),
        completion.run,
      );
      const [{ runsStored, lastRunAt, hasWebhook }] = await s.records.runFacts([
        ["default", job.id],
      ]);
      assert.deepEqual({ runsStored, lastRunAt, hasWebhook }, {
        runsStored: 1,
        lastRunAt: T0,
        hasWebhook: false,
      });
    });

    await step(t, "a run adds to its job's latest results, once, the last 50 kept", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      const [empty] = await s.records.jobSummaries("default", [job.id]);
      assert.deepEqual(empty, { recent: [], alertState: null });
      // Read once before any of them, as a batch of a worker's results is: a stale read.
      const read = (await s.records.getJobForRun("default", job.id))?.recent;
      const runs = Array.from({ length: 55 }, (_, i) => {
        const r = run(job, T0 + (i + 1) * 60_000, i % 7 === 3 ? "failure" : "success");
        return { ...r, durationMs: 100 + i };
      });
      // The oldest one by one, the newer ones together (one shared commit where the store
      // groups them), all on the stale read; each lands once.
      const written: boolean[] = [];
      for (const r of runs.slice(0, 25)) {
        written.push(await s.records.recordRun({ ...complete(r), recent: read }));
      }
      written.push(
        ...await Promise.all(
          runs.slice(25).map((r) => s.records.recordRun({ ...complete(r), recent: read })),
        ),
      );
      assert.ok(written.every((w) => w));
      assert.equal(await s.records.recordRun(complete(runs[54])), false);
      // A late result of an older check is kept, and drawn in time order.
      const late = { ...run(job, T0, "missed"), maintenance: { id: "mw_1", name: "Upgrade" } };
      await s.records.recordRun({ ...complete(late), counts: false });
      const [summary, none] = await s.records.jobSummaries("default", [job.id, "no-such-job"]);
      assert.deepEqual(none, { recent: [], alertState: null });
      assert.equal(summary.recent.length, 50);
      assert.deepEqual(summary.recent[0], {
        at: T0,
        status: "missed",
        latencyMs: null,
        maintenance: true,
      });
      // The six oldest of the 56 went: the newest 49 runs stay beside the late one.
      assert.deepEqual(
        summary.recent.slice(1).map((r) => [r.at, r.status, r.latencyMs, r.maintenance]),
        runs.slice(6).map((r) => [Date.parse(r.scheduledAt), r.status, r.durationMs, false]),
      );
      assert.equal((await s.records.getJob("default", job.id))?.count, 55);
    });

    await step(
      t,
      "runs written together are written once each, a job's counted and added in the order given",
      async (s) => {
        const a = makeJob({});
        const b = makeJob({});
        for (const job of [a, b]) await s.records.createJob(job, null);
        const early = run(a, T0, "success");
        await s.records.recordRun(complete(early));
        // A worker's chunk: several results of one job, one of them twice, one stored already.
        const nul = "PNG\u0000\u0001";
        const ofA = [1, 2, 3].map((i) => ({
          ...run(a, T0 + i * 60_000, i === 2 ? "failure" : "success"),
          durationMs: 100 + i,
        }));
        ofA[0].response = { headers: { "x-raw": nul }, body: nul, bodyTruncated: false };
        // Two of one second: the ring keeps them in the order given.
        const sameSecond = {
          ...run(a, T0 + 180_500, "missed"),
          id: runId(T0 + 180_500, "x"),
          where: "x",
        };
        const written = await s.records.recordRuns([
          complete(early),
          ...ofA.map((r, i) => ({ ...complete(r), runsStored: 1 + i })),
          complete(run(b, T0 + 60_000, "failure")),
          complete(structuredClone(ofA[1])),
          { ...complete(sameSecond), suffix: "x", counts: false },
        ]);
        assert.deepEqual(written, [false, true, true, true, true, false, true]);
        assert.deepEqual(await s.records.recordRuns([]), []);
        const stored = await s.records.getJob("default", a.id);
        assert.equal(stored?.count, 4);
        assert.equal(stored?.lastRunAt, T0 + 180_000);
        const [factsA, factsB] = await s.records.runFacts([["default", a.id], ["default", b.id]]);
        assert.equal(factsA.runsStored, 5);
        assert.equal(factsB.runsStored, 1);
        assert.equal((await s.records.getJob("default", b.id))?.count, 1);
        assert.deepEqual(await s.records.getRun("default", a.id, ofA[0].id), ofA[0]);
        const listed = await s.records.listRuns("default", a.id, { limit: 10 });
        assert.equal(listed.values.length, 5);
        const [summary] = await s.records.jobSummaries("default", [a.id]);
        assert.deepEqual(summary.recent.map((r) => [r.at - T0, r.status, r.latencyMs]), [
          [0, "success", 10],
          [60_000, "success", 101],
          [120_000, "failure", 102],
          [180_000, "success", 103],
          [180_000, "missed", null],
        ]);
        // A chunk longer than the ring: the last 50 given stay.
        const many = Array.from({ length: 55 }, (_, i) => run(b, T0 + (i + 2) * 60_000, "success"));
        const all = await s.records.recordRuns(many.map(complete));
        assert.ok(all.every((w) => w));
        const [ofB] = await s.records.jobSummaries("default", [b.id]);
        assert.deepEqual(
          ofB.recent.map((r) => r.at),
          many.slice(5).map((r) => Date.parse(r.scheduledAt)),
        );
        assert.equal((await s.records.getJob("default", b.id))?.count, 56);
      },
    );

    await step(
      t,
      "runs written together bring their outbox and decide items and end their leases",
      async (s, clock) => {
        const { job, leases } = await claimed(s, [T0 + 1000]);
        await s.webhooks.create(webhook(job));
        const before = run(job, T0, "success");
        await s.records.recordRun(complete(before));
        const [first, second] = [T0 + 1000, T0 + 2000].map((at) => run(job, at, "success"));
        const queued = delivery(job, first, clock.now());
        const held = delivery(job, second, clock.now() + 1);
        const unwritten = delivery(job, before, clock.now());
        // Both runs feed one interval's item (several locations): it is written once.
        const waiting = (r: Run): DecideRequest => ({
          userId: job.userId,
          jobId: job.id,
          at: T0,
          dueAt: T0 + 60_000,
          value: { end: T0 + 60_000, run: [Date.parse(r.scheduledAt), r.where] },
        });
        const written = await s.records.recordRuns([
          { ...complete(before), outbox: [{ delivery: unwritten }], decide: waiting(before) },
          {
            ...complete(first),
            lease: leases[0].ref,
            outbox: [{ delivery: queued }],
            decide: waiting(first),
          },
          {
            ...complete(second),
            outbox: [{ delivery: held, heldUntil: T0 + 45_000 }],
            decide: waiting(second),
          },
        ]);
        assert.deepEqual(written, [false, true, true]);
        assert.deepEqual((await s.webhooks.getDelivery(queued.id))?.delivery, queued);
        assert.equal(await s.webhooks.getDelivery(unwritten.id), null);
        const listed = await s.webhooks.listDeliveries("default", job.id, { limit: 10 });
        assert.deepEqual(listed.values.map((d) => d.id), [queued.id]);
        const [leased] = await s.lanes.listExpired<{ delivery: Delivery }>(
          "delivery",
          T0 + 45_000,
          10,
        );
        assert.deepEqual(leased.value.delivery, held);
        const items = await s.lanes.listDue<DecideValue>("alert", T0 + 60_000, 10);
        assert.deepEqual(items.map((i) => [i.at, i.id, i.value]), [
          [T0 + 60_000, [job.userId, job.id, T0], waiting(second).value],
        ]);
        assert.deepEqual(await s.lanes.listExpired("fire", T0 + 60_000, 10), []);
      },
    );

    await step(t, "a chunk of runs written twice at once is written once", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      const chunk = Array.from(
        { length: 20 },
        (_, i) => complete(run(job, T0 + i * 1000, "success")),
      );
      const [one, two] = await Promise.all([
        s.records.recordRuns(chunk),
        s.records.recordRuns(structuredClone(chunk)),
      ]);
      assert.deepEqual(one.map((w, i) => w !== two[i]), chunk.map(() => true));
      assert.equal((await s.records.getJob("default", job.id))?.count, 20);
      assert.equal((await s.records.listRuns("default", job.id, { limit: 50 })).values.length, 20);
      await assert.rejects(
        () => s.records.recordRuns([{ ...complete(run(job, T0, "success")), guards: [] }]),
        TypeError,
      );
    });

    await step(
      t,
      "the dashboard's state is the alert state, moved by decisions and pauses, and counted",
      async (s) => {
        const a = makeJob({ name: "alpha api" });
        const b = makeJob({ name: "beta api" });
        const c = makeJob({ name: "gamma", enabled: false });
        for (const job of [a, b, c]) await s.records.createJob(job, null);
        const inState = async (state: JobAlertState["state"], q?: string) =>
          (await s.records.searchJobs("default", { state, q, limit: 10 })).values
            .map((v) => v.job.name).sort();
        const counts = (fields: Partial<Record<JobAlertState["state"], number>>) => ({
          pending: 0,
          up: 0,
          degraded: 0,
          down: 0,
          paused: 0,
          maintenance: 0,
          ...fields,
        });
        assert.deepEqual(
          await s.records.countJobStates("default"),
          counts({ pending: 2, paused: 1 }),
        );
        assert.deepEqual(await inState("pending"), ["alpha api", "beta api"]);
        const decide = async (job: Job, state: JobAlertState["state"], enabled = true) =>
          assert.equal(
            await s.alerts.decide({
              current: await s.alerts.getState("default", job.id),
              next: alertState(job, { state }),
              settle: [],
              enabled,
            }),
            true,
          );
        await decide(a, "up");
        await decide(b, "down");
        await decide(b, "degraded");
        assert.deepEqual(await inState("up"), ["alpha api"]);
        assert.deepEqual(await inState("degraded", "api"), ["beta api"]);
        assert.deepEqual(await inState("down"), []);
        assert.deepEqual(await inState("pending"), []);
        assert.deepEqual(
          await s.records.countJobStates("default"),
          counts({ up: 1, degraded: 1, paused: 1 }),
        );
        const summaries = await s.records.jobSummaries("default", [a.id, b.id, c.id]);
        assert.deepEqual(summaries.map((x) => x.alertState), ["up", "degraded", null]);
        // Paused: shown as paused whatever its alert state; resumed: its alert state again.
        const setEnabled = (job: Job, enabled: boolean) =>
          s.records.updateJob("default", job.id, (j) => ({
            job: { ...j, enabled },
            firstFireAt: undefined,
          }));
        await setEnabled(a, false);
        assert.deepEqual(await inState("paused"), ["alpha api", "gamma"]);
        assert.deepEqual(await inState("up"), []);
        assert.deepEqual(
          await s.records.countJobStates("default"),
          counts({ degraded: 1, paused: 2 }),
        );
        await decide(a, "paused", false);
        await setEnabled(a, true);
        assert.deepEqual(await inState("paused"), ["alpha api", "gamma"]);
        await decide(a, "down");
        await setEnabled(c, true);
        assert.deepEqual(await inState("down"), ["alpha api"]);
        assert.deepEqual(await inState("pending"), ["gamma"]);
        await s.records.deleteJob("default", b.id);
        assert.deepEqual(await inState("degraded"), []);
        assert.deepEqual(
          await s.records.countJobStates("default"),
          counts({ down: 1, pending: 1 }),
        );
        assert.deepEqual(await s.records.countJobStates("someone-else"), counts({}));
      },
    );

    await step(t, "a missed record is kept without counting as an execution", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      await s.records.recordRun({ ...complete(run(job, T0, "missed")), counts: false });
      const stored = await s.records.getJob("default", job.id);
      assert.equal(stored?.count, 0);
      assert.equal(stored?.lastRunAt, null);
      assert.equal((await s.records.getJobForRun("default", job.id))?.runsStored, 1);
    });

    await step(t, "a run's outbox delivery is written with it", async (s, clock) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      await s.webhooks.create(webhook(job));
      const first = run(job, T0, "success");
      const queued = delivery(job, first, clock.now());
      await s.records.recordRun({ ...complete(first), outbox: [{ delivery: queued }] });
      assert.deepEqual((await s.webhooks.getDelivery(queued.id))?.delivery, queued);
      // A held delivery lives in its lease until its first attempt is recorded.
      const second = run(job, T0 + 1000, "success");
      const held = delivery(job, second, clock.now() + 1);
      await s.records.recordRun({
        ...complete(second),
        outbox: [{ delivery: held, heldUntil: T0 + 45_000 }],
      });
      assert.equal(await s.webhooks.getDelivery(held.id), null);
      const listed = await s.webhooks.listDeliveries("default", job.id, { limit: 10 });
      assert.deepEqual(listed.values.map((d) => d.id), [queued.id]);
      const [facts] = await s.records.runFacts([["default", job.id]]);
      assert.equal(facts.hasWebhook, true);
    });

    await step(t, "text holding U+0000 comes back as it was written", async (s, clock) => {
      // A binary answer's first bytes, as a run, a delivery or an event keeps them.
      const nul = "PNG\u0000\u0001 \\u0000 end";
      const job = makeJob({
        name: `job ${nul}`,
        body: nul,
        headers: { "x-raw": nul },
        workers: [{ workerId: "aws-tyo1a", checkMinute: 0, checkSecond: 0 }],
      });
      await s.records.createJob(job, null);
      await s.webhooks.create(webhook(job));
      const first: Run = {
        ...run(job, T0, "success"),
        response: { headers: { "x-raw": nul }, body: nul, bodyTruncated: false },
      };
      const held = delivery(job, first, clock.now());
      held.payload.result.response.body = nul;
      const until = T0 + 45_000;
      await s.records.recordRun({
        ...complete(first),
        outbox: [{ delivery: held, heldUntil: until }],
      });
      assert.equal((await s.records.getJob("default", job.id))?.job.name, job.name);
      assert.deepEqual(await s.records.getRun("default", job.id, first.id), first);
      const [leased] = await s.lanes.listExpired<{ delivery: Delivery }>("delivery", until, 10);
      assert.deepEqual(leased.value.delivery, held);
      const answered: Delivery = {
        ...held,
        state: "succeeded",
        nextAttemptAt: null,
        attempts: [deliveryAttempt(1, nul)],
      };
      const inLease = { delivery: held, version: null };
      assert.equal(
        await s.webhooks.saveDelivery(inLease, answered, { lease: leased.lease!.ref }),
        true,
      );
      assert.deepEqual((await s.webhooks.getDelivery(held.id))?.delivery, answered);
      const hook = inboundHook();
      await s.inbound.createHook(hook);
      const body = new TextEncoder().encode(nul);
      const event = inboundEvent(hook, "evt_1", "d-1", body);
      assert.equal(await s.inbound.addEvent(newEvent(event, body, T0, clock.now())), true);
      const read = (await s.inbound.getEvent(hook.id, event.id))!;
      assert.deepEqual(read.event, event);
      assert.deepEqual(await s.inbound.readBody(event), body);
      const relayed: InboundEvent = {
        ...event,
        action: { ...event.action, attempts: [{ ...actionAttempt(1), detail: nul }] },
      };
      assert.equal(await s.inbound.saveEvent(read, relayed, { now: clock.now() }), true);
      assert.deepEqual((await s.inbound.getEvent(hook.id, event.id))?.event, relayed);
      const result = { ...checkResult(job, T0, false), error_message: nul };
      await s.workers.queueResults([result], T0);
      const [queued] = await s.lanes.listDue<ResultChunk>("results", T0, 10);
      assert.deepEqual(queued.value.results, [result]);
    });

    await step(
      t,
      "pruneRuns keeps the newest runs within the retention",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        for (let i = 0; i < 6; i++) {
          await s.records.recordRun({
            ...complete(run(job, T0 + i * 1000, "success")),
            runsStored: i,
          });
        }
        assert.equal(await s.records.pruneRuns("default", job.id), 3);
        const kept = await s.records.listRuns("default", job.id, { limit: 10 });
        assert.deepEqual(
          kept.values.map((r) => parseRunId(r.id)?.scheduledAt),
          [T0 + 5000, T0 + 4000, T0 + 3000],
        );
        assert.equal((await s.records.getJobForRun("default", job.id))?.runsStored, 3);
      },
      { count: 3, maxAgeMs: 86_400_000 },
    );

    await step(t, "a deleted job's runs are purged", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      await s.records.recordRun(complete(run(job, T0, "success")));
      await s.records.deleteJob("default", job.id);
      assert.equal(await s.records.purgeDeletedJobs(), 1);
      assert.deepEqual((await s.records.listRuns("default", job.id, { limit: 10 })).values, []);
    });

    await step(t, "API keys are found by hash and deleted with their index", async (s) => {
      const key: ApiKey = {
        id: "key-1",
        userId: "default",
        name: "ci",
        scopes: ["read:jobs"],
        prefix: "hbk_abc",
        hash: "a".repeat(64),
        createdAt: new Date(T0).toISOString(),
      };
      await s.records.createApiKey(key);
      await assert.rejects(() => s.records.createApiKey({ ...key, id: "key-2" }), ConflictError);
      assert.deepEqual(await s.records.findApiKeyByHash(key.hash), key);
      assert.deepEqual((await s.records.listApiKeys("default", { limit: 10 })).values, [key]);
      await s.records.deleteApiKey("default", key.id);
      assert.equal(await s.records.findApiKeyByHash(key.hash), null);
      await assert.rejects(() => s.records.deleteApiKey("default", key.id), NotFoundError);
    });

    await step(t, "a worker's monitors follow its jobs' assignments", async (s) => {
      const worker: Worker = {
        id: "aws-tyo1a",
        name: "Tokyo",
        is_active: true,
        last_seen_at: null,
        created_at: new Date(T0).toISOString(),
      };
      await s.workers.create(worker);
      await assert.rejects(() => s.workers.create(worker), ConflictError);
      assert.equal(await s.workers.get("not a worker id!"), null);
      await s.workers.touch(worker.id, T0 + 5000);
      await s.workers.touch(worker.id, T0 + 1000);
      assert.equal(
        (await s.workers.get(worker.id))?.last_seen_at,
        new Date(T0 + 5000).toISOString(),
      );
      const job = makeJob({
        schedule: "@every 60s",
        workers: [{ workerId: worker.id, checkMinute: 0, checkSecond: 15 }],
      });
      await s.records.createJob(job, null);
      const monitors = await s.workers.listMonitors(worker.id);
      assert.equal(monitors.length, 1);
      assert.equal(monitors[0].userId, "default");
      assert.equal(monitors[0].monitor.monitor_id, job.id);
      assert.equal(monitors[0].monitor.check_second, 15);
      assert.equal(monitors[0].monitor.check_interval_seconds, 60);
      assert.deepEqual(
        await s.workers.monitorOwners(worker.id, [job.id, crypto.randomUUID(), "not a uuid"]),
        new Map([[job.id, "default"]]),
      );
      await s.records.updateJob("default", job.id, (j) => ({
        job: { ...j, enabled: false },
        firstFireAt: undefined,
      }));
      assert.deepEqual(await s.workers.listMonitors(worker.id), []);
      const renamed = await s.workers.update(worker.id, (w) => ({ ...w, name: "Osaka" }));
      assert.equal(renamed.name, "Osaka");
      assert.deepEqual((await s.workers.list()).map((w) => w.name), ["Osaka"]);
    });

    await step(t, "accepted worker results wait in the results lane for their time", async (s) => {
      const job = makeJob({
        schedule: "@every 60s",
        workers: [{ workerId: "aws-tyo1a", checkMinute: 0, checkSecond: 0 }],
      });
      await s.records.createJob(job, null);
      const results = [0, 1, 2].map((i) => checkResult(job, T0 + i * 60_000, i !== 1));
      await s.workers.queueResults(results, T0 + 1000);
      await s.workers.queueResults([], T0);
      assert.deepEqual(await s.lanes.listDue("results", T0 + 999, 10), []);
      const due = await s.lanes.listDue<ResultChunk>("results", T0 + 1000, 10);
      assert.deepEqual(due.map((i) => i.at), due.map(() => T0 + 1000));
      assert.deepEqual(due.flatMap((i) => i.value.results), results);
      // A second batch is an item of its own, whatever it holds.
      await s.workers.queueResults(results.slice(0, 1), T0 + 1000);
      assert.equal(await s.lanes.countDue("results", T0 + 1000, 100), due.length + 1);
    });

    await step(t, "a webhook belongs to an existing job, one per job", async (s) => {
      const job = makeJob({});
      await assert.rejects(() => s.webhooks.create(webhook(job)), NotFoundError);
      await s.records.createJob(job, null);
      await s.webhooks.create(webhook(job));
      await assert.rejects(() => s.webhooks.create(webhook(job)), ConflictError);
      const updated = await s.webhooks.update("default", job.id, (w) => ({
        ...w,
        endpoint: "https://example.com/other",
      }));
      assert.equal((await s.webhooks.get("default", job.id))?.endpoint, updated.endpoint);
      assert.equal((await s.records.getJobForRun("default", job.id))?.webhook?.id, updated.id);
      assert.deepEqual((await s.webhooks.list("default", { limit: 10 })).values, [updated]);
      await s.webhooks.delete("default", job.id);
      assert.equal(await s.webhooks.get("default", job.id), null);
    });

    await step(
      t,
      "a delivery is saved with compare-and-set and tracks the failing streak",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        await s.webhooks.create(webhook(job));
        const queued = delivery(job, run(job, T0, "success"), T0);
        await s.webhooks.queueDelivery(queued);
        const read = (await s.webhooks.getDelivery(queued.id))!;
        const next: Delivery = { ...read.delivery, nextAttemptAt: T0 + 60_000 };
        assert.equal(await s.webhooks.saveDelivery(read, next, { failing: { since: T0 } }), true);
        // The same read is stale now.
        assert.equal(await s.webhooks.saveDelivery(read, { ...next, state: "dead" }), false);
        const where = { userId: "default", jobId: job.id, createdAt: Date.parse(queued.createdAt) };
        const facts = await s.webhooks.attemptFacts(queued.id, where, { withDelivery: true });
        assert.equal(facts.failingSince, T0);
        assert.deepEqual(facts.delivery?.delivery, next);
        assert.equal(facts.webhook?.jobId, job.id);
        const fresh = (await s.webhooks.getDelivery(queued.id, where))!;
        await s.webhooks.saveDelivery(fresh, { ...next, state: "succeeded", nextAttemptAt: null }, {
          failing: "clear",
        });
        assert.equal(
          (await s.webhooks.attemptFacts(queued.id, where, { withDelivery: false })).failingSince,
          null,
        );
        await assert.rejects(() => s.webhooks.deleteDelivery(fresh), ConflictError);
        await s.webhooks.deleteDelivery((await s.webhooks.getDelivery(queued.id))!);
        assert.equal(await s.webhooks.getDelivery(queued.id), null);
      },
    );

    await step(t, "a delivery's queued attempt moves with its next attempt time", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      await s.webhooks.create(webhook(job));
      const queued = delivery(job, run(job, T0, "success"), T0);
      await s.webhooks.queueDelivery(queued);
      const where = { userId: "default", jobId: job.id, createdAt: T0 };
      const due = async (now: number) =>
        (await s.lanes.listDue("delivery", now, 10)).map((i) => [i.at, i.id, i.value]);
      assert.deepEqual(await due(T0), [[T0, [queued.id], where]]);
      // A redelivery asked for later: the attempt waits for its new time instead.
      const read = (await s.webhooks.getDelivery(queued.id))!;
      assert.equal(typeof read.version, "string");
      const later: Delivery = { ...queued, nextAttemptAt: T0 + 60_000 };
      assert.equal(await s.webhooks.saveDelivery(read, later), true);
      assert.deepEqual(await due(T0 + 59_999), []);
      assert.deepEqual(await due(T0 + 60_000), [[T0 + 60_000, [queued.id], where]]);
      // An attempt takes the queued item; its result queues the retry and ends the lease.
      const [item] = await s.lanes.listDue("delivery", T0 + 60_000, 10);
      const [lease] = await s.lanes.take("delivery", [{ item, until: T0 + 90_000 }]);
      const retry: Delivery = {
        ...later,
        attempts: [deliveryAttempt(1, "busy")],
        attemptsInRound: 1,
        nextAttemptAt: T0 + 120_000,
      };
      const taken = (await s.webhooks.getDelivery(queued.id, where))!;
      assert.equal(
        await s.webhooks.saveDelivery(taken, retry, { lease: lease!.ref, attempted: true }),
        true,
      );
      assert.deepEqual(await s.lanes.listExpired("delivery", T0 + 90_000, 10), []);
      assert.deepEqual(await due(T0 + 120_000), [[T0 + 120_000, [queued.id], where]]);
      // Deleting the delivery withdraws its queued attempt.
      await s.webhooks.deleteDelivery((await s.webhooks.getDelivery(queued.id, where))!);
      assert.deepEqual(await due(T0 + 120_000), []);
      assert.deepEqual(
        (await s.webhooks.listDeliveries("default", job.id, { limit: 10 })).values,
        [],
      );
    });

    await step(
      t,
      "a delivery written with its run lives in its lease until its first attempt is saved",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        await s.webhooks.create(webhook(job));
        const first = run(job, T0, "success");
        const held = delivery(job, first, T0);
        const until = T0 + 45_000;
        await s.records.recordRun({
          ...complete(first),
          outbox: [{ delivery: held, heldUntil: until }],
        });
        const where = { userId: "default", jobId: job.id, createdAt: T0 };
        assert.deepEqual(await s.lanes.listDue("delivery", until, 10), []);
        const [leased, ...others] = await s.lanes.listExpired("delivery", until, 10);
        assert.deepEqual(others, []);
        assert.deepEqual(
          [leased.at, leased.id, leased.value, leased.lease?.until],
          [T0, [held.id], { ...where, delivery: held }, until],
        );
        const lease = s.webhooks.heldLease(held, until);
        assert.deepEqual(leased.lease?.ref, lease);
        // The first attempt failed: its save writes the record, ends the lease, queues a retry.
        const inLease = { delivery: held, version: null };
        const retry: Delivery = {
          ...held,
          attempts: [deliveryAttempt(1, "down")],
          attemptsInRound: 1,
          nextAttemptAt: T0 + 60_000,
        };
        assert.equal(
          await s.webhooks.saveDelivery(inLease, retry, {
            lease,
            attempted: true,
            failing: { since: T0 },
          }),
          true,
        );
        assert.deepEqual((await s.webhooks.getDelivery(held.id))?.delivery, retry);
        assert.deepEqual(
          (await s.webhooks.listDeliveries("default", job.id, { limit: 10 })).values,
          [retry],
        );
        assert.deepEqual(await s.lanes.listExpired("delivery", until, 10), []);
        assert.deepEqual(
          (await s.lanes.listDue("delivery", T0 + 60_000, 10)).map((i) => [i.at, i.id, i.value]),
          [[T0 + 60_000, [held.id], where]],
        );
        // A process that took the lease over after a crash, late, finds the record: it loses.
        const dead: Delivery = { ...retry, state: "dead", nextAttemptAt: null };
        assert.equal(await s.webhooks.saveDelivery(inLease, dead, { attempted: true }), false);
        await assert.rejects(() => s.webhooks.deleteDelivery(inLease), ConflictError);
        assert.equal(
          (await s.webhooks.attemptFacts(held.id, where, { withDelivery: false })).failingSince,
          T0,
        );
      },
    );

    await step(
      t,
      "a webhook's failing streak keeps its first start and ends when it is re-enabled",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        await s.webhooks.create(webhook(job));
        const queued = delivery(job, run(job, T0, "success"), T0);
        await s.webhooks.queueDelivery(queued);
        const where = { userId: "default", jobId: job.id, createdAt: T0 };
        for (const since of [T0 + 5000, T0, T0 + 9000]) {
          const read = (await s.webhooks.getDelivery(queued.id, where))!;
          const next = { ...read.delivery, attemptsInRound: read.delivery.attemptsInRound + 1 };
          assert.equal(await s.webhooks.saveDelivery(read, next, { failing: { since } }), true);
        }
        const facts = await s.webhooks.attemptFacts(queued.id, where, { withDelivery: true });
        assert.equal(facts.failingSince, T0);
        assert.equal(facts.delivery?.delivery.attemptsInRound, 3);
        assert.equal((await s.records.getJobForRun("default", job.id))?.webhookFailingSince, T0);
        const disabled = await s.webhooks.update("default", job.id, (w) => ({
          ...w,
          enabled: false,
          disabledReason: "failing",
        }));
        assert.equal(disabled.enabled, false);
        const still = await s.webhooks.attemptFacts(queued.id, where, { withDelivery: false });
        assert.deepEqual([still.webhook?.enabled, still.failingSince], [false, T0]);
        await s.webhooks.update("default", job.id, (w) => ({ ...w, enabled: true }));
        const after = await s.webhooks.attemptFacts(queued.id, where, { withDelivery: false });
        assert.deepEqual([after.webhook?.enabled, after.failingSince], [true, null]);
        assert.equal(after.delivery, null);
      },
    );

    await step(
      t,
      "a delivery keeps its latest 20 attempts, snippets on the latest 10",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        await s.webhooks.create(webhook(job));
        const queued = delivery(job, run(job, T0, "success"), T0);
        await s.webhooks.queueDelivery(queued);
        const read = (await s.webhooks.getDelivery(queued.id))!;
        const attempts = Array.from({ length: 25 }, (_, i) => deliveryAttempt(i + 1, `r${i + 1}`));
        await s.webhooks.saveDelivery(read, { ...queued, attempts });
        const kept = (await s.webhooks.getDelivery(queued.id))!.delivery.attempts;
        assert.deepEqual(kept.map((a) => a.n), attempts.slice(5).map((a) => a.n));
        assert.deepEqual(
          kept.map((a) => a.response),
          [...Array(10).fill(""), ...attempts.slice(15).map((a) => a.response)],
        );
      },
    );

    await step(t, "webhooks are listed per owner with a cursor", async (s) => {
      const jobs = [makeJob({}), makeJob({}), makeJob({}), makeJob({ userId: "other" })];
      for (const job of jobs) {
        await s.records.createJob(job, null);
        await s.webhooks.create(webhook(job));
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 5; n++) {
        const found = await s.webhooks.list("default", { limit: 2, cursor });
        seen.push(...found.values.map((w) => w.jobId));
        if (!found.cursor) break;
        cursor = found.cursor;
      }
      assert.deepEqual(seen, jobs.slice(0, 3).map((j) => j.id).sort());
      await s.records.deleteJob("default", jobs[0].id);
      assert.equal(await s.webhooks.get("default", jobs[0].id), null);
      await assert.rejects(() => s.webhooks.delete("default", jobs[0].id), NotFoundError);
      await assert.rejects(
        () => s.webhooks.update("default", jobs[3].id, (w) => w),
        NotFoundError,
      );
    });

    await step(t, "an inbound event is stored once per delivery id and body", async (s, clock) => {
      const hook = inboundHook();
      await s.inbound.createHook(hook);
      await assert.rejects(() => s.inbound.createHook(hook), ConflictError);
      assert.deepEqual(await s.inbound.getHook(hook.id), hook);
      await assert.rejects(() => s.inbound.getHookOf("someone-else", hook.id), NotFoundError);
      const body = new TextEncoder().encode('{"ok":true}');
      const event = inboundEvent(hook, "evt_1", "d-1", body);
      const input = {
        event,
        body,
        dueAt: T0,
        now: clock.now(),
        bodySha256: "b".repeat(64),
        seenTtlMs: 86_400_000,
      };
      assert.equal(await s.inbound.addEvent(input), true);
      assert.equal(await s.inbound.addEvent({ ...input, event: { ...event, id: "evt_2" } }), false);
      assert.deepEqual(await s.inbound.seen(hook.id, "d-1", "b".repeat(64)), {
        kind: "duplicate",
        eventId: "evt_1",
      });
      assert.deepEqual(await s.inbound.seen(hook.id, "d-1", "c".repeat(64)), {
        kind: "conflict",
        firstEventId: "evt_1",
      });
      assert.deepEqual(await s.inbound.readBody(event), body);
      await s.inbound.countRejected(hook.id);
      assert.deepEqual(await s.inbound.counts([hook.id]), [{ received: 1, rejected: 1 }]);
      const read = (await s.inbound.getEvent(hook.id, event.id))!;
      const next: InboundEvent = { ...event, action: { ...event.action, state: "succeeded" } };
      assert.equal(await s.inbound.saveEvent(read, next, { now: clock.now() }), true);
      assert.equal(await s.inbound.saveEvent(read, next, { now: clock.now() }), false);
      const both = await s.inbound.getEventWithHook(hook.id, event.id);
      assert.equal(both.event?.event.action.state, "succeeded");
      assert.equal(both.hook?.id, hook.id);
      await s.inbound.deleteHook("default", hook.id);
      assert.equal(await s.inbound.getEvent(hook.id, event.id), null);
      assert.deepEqual(await s.inbound.counts([hook.id]), [{ received: 0, rejected: 0 }]);
    });

    await step(
      t,
      "an inbound event's action is queued, moved by its saves and its lease ended",
      async (s, clock) => {
        const hook = inboundHook();
        await s.inbound.createHook(hook);
        const body = new TextEncoder().encode("{}");
        const event = inboundEvent(hook, "evt_1", "d-1", body);
        await s.inbound.addEvent(newEvent(event, body, T0, clock.now()));
        const due = async (now: number) =>
          (await s.lanes.listDue("inbound", now, 10)).map((i) => [i.at, i.id, i.value]);
        assert.deepEqual(await due(T0), [[T0, ["evt_1"], { hookId: hook.id }]]);
        const [item] = await s.lanes.listDue("inbound", T0, 10);
        const [lease] = await s.lanes.take("inbound", [{ item, until: T0 + 30_000 }]);
        // The attempt failed: a retry is queued and the lease ends with the save.
        const read = (await s.inbound.getEvent(hook.id, event.id))!;
        assert.equal(typeof read.version, "string");
        const failed: InboundEvent = {
          ...event,
          action: {
            state: "pending",
            nextAttemptAt: T0 + 10_000,
            attemptsInRound: 1,
            attempts: [actionAttempt(1)],
          },
        };
        const now = clock.now();
        assert.equal(await s.inbound.saveEvent(read, failed, { now, lease: lease!.ref }), true);
        assert.deepEqual(await s.lanes.listExpired("inbound", T0 + 30_000, 10), []);
        assert.deepEqual(await due(T0 + 10_000), [[T0 + 10_000, ["evt_1"], { hookId: hook.id }]]);
        // Given up, then replayed: the action waits again, at the replay's time.
        const gaveUp: InboundEvent = {
          ...failed,
          action: { ...failed.action, state: "failed", nextAttemptAt: null },
        };
        const second = (await s.inbound.getEvent(hook.id, event.id))!;
        assert.equal(await s.inbound.saveEvent(second, gaveUp, { now }), true);
        assert.deepEqual(await due(T0 + 10_000), []);
        const replayed: InboundEvent = {
          ...gaveUp,
          action: { ...gaveUp.action, state: "pending", nextAttemptAt: T0 + 20_000 },
        };
        const third = (await s.inbound.getEvent(hook.id, event.id))!;
        assert.equal(await s.inbound.saveEvent(third, replayed, { now }), true);
        assert.equal(await s.inbound.saveEvent(second, replayed, { now }), false);
        assert.deepEqual(await due(T0 + 20_000), [[T0 + 20_000, ["evt_1"], { hookId: hook.id }]]);
        const stored = (await s.inbound.getEvent(hook.id, event.id))!.event;
        assert.deepEqual(stored, replayed);
        // An event whose action needs nothing run is stored with nothing queued.
        const quiet = inboundEvent(hook, "evt_2", "d-2", body);
        await s.inbound.addEvent(newEvent(quiet, body, null, now));
        assert.deepEqual((await due(T0 + 20_000)).map(([, id]) => id), [["evt_1"]]);
      },
    );

    await step(
      t,
      "another body under a known delivery id is stored apart, and its repeat is a duplicate",
      async (s, clock) => {
        const hook = inboundHook();
        await s.inbound.createHook(hook);
        const body = new TextEncoder().encode("first");
        const now = clock.now();
        const sha = (c: string) => c.repeat(64);
        await s.inbound.addEvent(newEvent(inboundEvent(hook, "evt_1", "d-1", body), body, T0, now));
        const other = new TextEncoder().encode("other");
        const conflict: InboundEvent = {
          ...inboundEvent(hook, "evt_2", "d-1", other),
          conflictOf: "evt_1",
          action: { state: "held", nextAttemptAt: null, attemptsInRound: 0, attempts: [] },
        };
        const input = { ...newEvent(conflict, other, null, now), bodySha256: sha("c") };
        assert.equal(await s.inbound.addEvent(input), true);
        const again = { ...input, event: { ...conflict, id: "evt_3" } };
        assert.equal(await s.inbound.addEvent(again), false);
        assert.deepEqual(await s.inbound.seen(hook.id, "d-1", sha("c")), {
          kind: "duplicate",
          eventId: "evt_2",
        });
        assert.deepEqual(await s.inbound.seen(hook.id, "d-1", sha("b")), {
          kind: "duplicate",
          eventId: "evt_1",
        });
        assert.deepEqual(await s.inbound.seen(hook.id, "d-1", sha("e")), {
          kind: "conflict",
          firstEventId: "evt_1",
        });
        assert.deepEqual(await s.inbound.seen(hook.id, "d-2", sha("b")), { kind: "new" });
        // Without a delivery id every request is an event of its own.
        for (const id of ["evt_4", "evt_5"]) {
          const plain = { ...inboundEvent(hook, id, "", body), deliveryId: null };
          assert.equal(await s.inbound.addEvent(newEvent(plain, body, null, now)), true);
        }
        assert.deepEqual(await s.inbound.counts([hook.id, "hook_none"]), [
          { received: 4, rejected: 0 },
          { received: 0, rejected: 0 },
        ]);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let n = 0; n < 5; n++) {
          const found = await s.inbound.listEvents(hook.id, { limit: 3, cursor });
          seen.push(...found.values.map((e) => e.id));
          if (!found.cursor) break;
          cursor = found.cursor;
        }
        assert.deepEqual(seen, ["evt_5", "evt_4", "evt_2", "evt_1"]);
      },
    );

    await step(t, "an event keeps its whole body, a short text one only as its own", async (s) => {
      const hook = inboundHook();
      await s.inbound.createHook(hook);
      // Over Deno KV's 800 KiB per commit: written in several.
      const large = Uint8Array.from({ length: 900 * 1024 }, (_, i) => (i * 31 + (i >> 12)) % 251);
      const event: InboundEvent = {
        ...inboundEvent(hook, "evt_1", "d-1", large),
        body: "",
        bodyTruncated: true,
        bodyChunks: Math.ceil(large.length / CHUNK_BYTES),
      };
      assert.equal(await s.inbound.addEvent(newEvent(event, large, T0, T0)), true);
      assert.deepEqual(await s.inbound.readBody(event), large);
      const text = new TextEncoder().encode("small");
      const small = { ...inboundEvent(hook, "evt_2", "d-2", text), bodyChunks: 0 };
      assert.equal(await s.inbound.addEvent(newEvent(small, text, null, T0)), true);
      assert.deepEqual(await s.inbound.readBody(small), text);
      const trimmed: InboundEvent = {
        ...small,
        action: {
          ...small.action,
          attempts: Array.from({ length: 25 }, (_, i) => actionAttempt(i + 1)),
        },
      };
      const read = (await s.inbound.getEvent(hook.id, "evt_2"))!;
      assert.equal(await s.inbound.saveEvent(read, trimmed, { now: T0 }), true);
      const kept = (await s.inbound.getEvent(hook.id, "evt_2"))!.event.action.attempts;
      assert.deepEqual(kept.map((a) => a.n), Array.from({ length: 20 }, (_, i) => i + 6));
    });

    await step(t, "hooks change by compare-and-set and are listed for their owner", async (s) => {
      const ids = ["a", "b", "c"].map((c) => `hook_${c.repeat(32)}`);
      for (const id of ids) await s.inbound.createHook({ ...inboundHook(), id });
      await s.inbound.createHook({ ...inboundHook(), id: `hook_${"d".repeat(32)}`, userId: "x" });
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 5; n++) {
        const found = await s.inbound.listHooks("default", { limit: 2, cursor });
        seen.push(...found.values.map((h) => h.id));
        if (!found.cursor) break;
        cursor = found.cursor;
      }
      assert.deepEqual(seen, ids);
      await Promise.all(
        Array.from({ length: 5 }, () =>
          s.inbound.updateHook("default", ids[0], async (h) => {
            await Promise.resolve();
            return { ...h, name: `${h.name}+` };
          })),
      );
      assert.equal((await s.inbound.getHook(ids[0]))?.name, "hook+++++");
      assert.equal((await s.inbound.getHookOf("default", ids[0])).name, "hook+++++");
      await assert.rejects(() => s.inbound.updateHook("x", ids[0], (h) => h), NotFoundError);
      await assert.rejects(() => s.inbound.deleteHook("x", ids[0]), NotFoundError);
      await s.inbound.deleteHook("default", ids[0]);
      assert.equal(await s.inbound.getHook(ids[0]), null);
      await assert.rejects(() => s.inbound.deleteHook("default", ids[0]), NotFoundError);
    });

    await step(
      t,
      "a lane item waits for its time, is leased once, and again once its lease ran out",
      async (s) => {
        const { lanes } = s;
        await lanes.add("delivery", { at: T0 - 1000, id: ["a"], value: { n: 1 } });
        await lanes.add("delivery", { at: T0, id: ["b"], value: { n: 2 } });
        await lanes.add("delivery", { at: T0 + 1, id: ["c"], value: { n: 3 } });
        await lanes.add("inbound", { at: T0, id: ["another lane"], value: {} });
        assert.equal(await lanes.countDue("delivery", T0, 100), 2);
        assert.equal(await lanes.countDue("delivery", T0, 1), 1);
        assert.deepEqual(await lanes.listDue("delivery", T0, 0), []);
        const listed = await lanes.listDue<{ n: number }>("delivery", T0, 10);
        assert.deepEqual(listed.map((i) => [i.at, i.id, i.value, i.lease]), [
          [T0 - 1000, ["a"], { n: 1 }, undefined],
          [T0, ["b"], { n: 2 }, undefined],
        ]);
        // Two processes take the same listing at once: each item goes to one of them.
        const until = T0 + 30_000;
        const takes = listed.map((item) => ({ item, until }));
        const [one, two] = await Promise.all([
          lanes.take("delivery", takes),
          lanes.take("delivery", takes),
        ]);
        assert.deepEqual(one.map((lease, i) => (lease === null) !== (two[i] === null)), [
          true,
          true,
        ]);
        assert.equal(await lanes.countDue("delivery", T0, 100), 0);
        assert.deepEqual(await lanes.listExpired("delivery", until - 1, 10), []);
        const ranOut = await lanes.listExpired<{ n: number }>("delivery", until, 10);
        assert.deepEqual(ranOut.map((i) => [i.at, i.id, i.value, i.lease?.until]), [
          [T0 - 1000, ["a"], { n: 1 }, until],
          [T0, ["b"], { n: 2 }, until],
        ]);
        const again = await lanes.take(
          "delivery",
          ranOut.map((item) => ({ item, until: until + 1 })),
        );
        assert.deepEqual(again.map((lease) => lease?.until), [until + 1, until + 1]);
        // A listing gone stale takes nothing.
        assert.deepEqual(await lanes.take("delivery", takes), [null, null]);
        for (const lease of again) await lanes.release(lease!.ref);
        assert.deepEqual(await lanes.listExpired("delivery", until + 1, 10), []);
        assert.deepEqual((await lanes.listDue("inbound", T0, 10)).map((i) => i.id), [[
          "another lane",
        ]]);
      },
    );

    await step(t, "items taken together lose only those another process took first", async (s) => {
      for (const id of ["a", "b", "c"]) {
        await s.lanes.add("results", { at: T0, id: [id, 0], value: { id } });
      }
      const listed = await s.lanes.listDue("results", T0, 10);
      const until = T0 + 60_000;
      assert.notEqual((await s.lanes.take("results", [{ item: listed[1], until }]))[0], null);
      const taken = await s.lanes.take("results", listed.map((item) => ({ item, until })));
      assert.deepEqual(taken.map((lease) => lease !== null), [true, false, true]);
      assert.deepEqual((await s.lanes.listExpired("results", until, 10)).map((i) => i.id), [
        ["a", 0],
        ["b", 0],
        ["c", 0],
      ]);
    });

    await step(
      t,
      "a claim leases a job's fires held ahead, once, and moves its due entry",
      async (s) => {
        const job = makeJob({ schedule: "* * * * * *" });
        await s.records.createJob(job, T0 + 1000);
        assert.deepEqual(await s.claims.listDue(T0 + 1000, 10), []);
        const [due] = await s.claims.listDue(T0 + 90_000, 10);
        assert.deepEqual({ ...due, version: "" }, {
          userId: "default",
          jobId: job.id,
          at: T0 + 1000,
          schedule: job.schedule,
          timezone: job.timezone,
          timeoutMs: job.timeoutMs,
          version: "",
        });
        assert.deepEqual(await s.claims.getDue("default", job.id), due);
        const missed = run(job, T0 - 1000, "missed");
        const claim: FireClaim = {
          due,
          fires: [T0 + 1000, T0 + 2000],
          fire: FIRE,
          missed: [missed],
          nextAt: T0 + 3000,
        };
        const [leases] = await s.claims.claim([claim], []);
        assert.deepEqual(leases?.map((lease) => lease.until), [T0 + 1000, T0 + 2000]);
        assert.ok(leases?.every((lease) => lease.ahead !== undefined));
        // The entry moved: the same claim again, or from another process, claims nothing.
        assert.deepEqual(await s.claims.claim([claim], []), [null]);
        assert.equal((await s.claims.getDue("default", job.id))?.at, T0 + 3000);
        assert.deepEqual((await s.records.listRuns("default", job.id, { limit: 10 })).values, [
          missed,
        ]);
        const stored = await s.records.getJobForRun("default", job.id);
        assert.deepEqual([stored?.count, stored?.runsStored], [0, 1]);
        // A fire held ahead runs out at its own time: then any process may take it.
        const ranOut = await s.lanes.listExpired<FireValue>("fire", T0 + 1000, 10);
        assert.deepEqual(ranOut.map((i) => [i.at, i.id, i.value]), [
          [T0 + 1000, ["default", job.id, "local"], FIRE],
        ]);
        // A claim read before the job changed its due entry claims nothing.
        const read = (await s.claims.getDue("default", job.id))!;
        await s.records.updateJob("default", job.id, (j) => ({ job: j, firstFireAt: T0 + 5000 }));
        assert.deepEqual(await s.claims.claim([{ ...claim, due: read }], []), [null]);
        await s.records.updateJob("default", job.id, (j) => ({ job: j, firstFireAt: null }));
        assert.equal(await s.claims.getDue("default", job.id), null);
      },
    );

    await step(
      t,
      "each claim of a batch holds or loses on its own: one whose entry changed is left out",
      async (s) => {
        const jobs = [0, 1, 2].map(() => makeJob({ schedule: "* * * * * *" }));
        for (const job of jobs) await s.records.createJob(job, T0 + 1000);
        const listed = await s.claims.listDue(T0 + 90_000, 10);
        assert.equal(listed.length, 3);
        const claimOf = (due: DueJob): FireClaim => ({
          due,
          fires: [T0 + 1000],
          fire: FIRE,
          missed: [],
          nextAt: T0 + 2000,
        });
        // Another process claimed the second one after this one listed it.
        assert.notEqual((await s.claims.claim([claimOf(listed[1])], []))[0], null);
        const leases = await s.claims.claim(listed.map(claimOf), []);
        assert.deepEqual(leases.map((l) => l?.map((lease) => lease.until) ?? null), [
          [T0 + 1000],
          null,
          [T0 + 1000],
        ]);
        assert.deepEqual(await s.claims.listDue(T0 + 2000, 10), []);
        // Each fire is held once: three fires, three leases in all.
        const held = await s.lanes.listExpired("fire", T0 + 1000, 10);
        assert.deepEqual(held.map((i) => i.id[1]).sort(), jobs.map((j) => j.id).sort());
        assert.deepEqual(await s.claims.claim([], []), []);
      },
    );

    await step(
      t,
      "a heartbeat's due entry carries its grace as the fires' shift, kept as claims move it",
      async (s) => {
        const job = makeJob({
          type: "heartbeat",
          heartbeat: {
            graceSeconds: 90,
            sealedToken: "v1.x.y",
            tokenHash: "34".repeat(32),
            checksFrom: T0,
          },
        });
        await s.records.createJob(job, T0 + 1000);
        const [due] = await s.claims.listDue(T0 + 90_000, 10);
        assert.equal(due.shiftMs, 90_000);
        const claim: FireClaim = { due, fires: [], fire: FIRE, missed: [], nextAt: T0 + 2000 };
        assert.notEqual((await s.claims.claim([claim], []))[0], null);
        assert.equal((await s.claims.getDue("default", job.id))?.shiftMs, 90_000);
        await s.records.updateJob("default", job.id, (j) => ({
          job: { ...j, heartbeat: { ...j.heartbeat!, graceSeconds: 30 } },
          firstFireAt: T0 + 3000,
        }));
        assert.equal((await s.claims.getDue("default", job.id))?.shiftMs, 30_000);
      },
    );

    await step(t, "a fire held ahead is started once, on its claim's version", async (s) => {
      const { job, leases } = await claimed(s, [T0 + 1000]);
      const item = { at: T0 + 1000, id: ["default", job.id, "local"], value: FIRE };
      // Two starts at once (on Postgres either may reach the row first): one of them starts.
      const started = await Promise.all([
        s.lanes.start("fire", item, leases[0], T0 + 16_000),
        s.lanes.start("fire", item, leases[0], T0 + 17_000),
      ]);
      const [working, ...others] = started.filter((lease) => lease !== null);
      assert.deepEqual(others, []);
      assert.ok([T0 + 16_000, T0 + 17_000].includes(working.until));
      assert.deepEqual(await s.lanes.listExpired("fire", working.until - 1, 10), []);
      // The run, recorded with its lease, ends it.
      await s.records.recordRun({
        ...complete(run(job, T0 + 1000, "success")),
        lease: working.ref,
      });
      assert.deepEqual(await s.lanes.listExpired("fire", working.until, 10), []);
    });

    await step(t, "held fires handed back wait again, with their stored value", async (s) => {
      const { job, leases } = await claimed(s, [T0 + 1000, T0 + 2000]);
      const id = ["default", job.id, "local"];
      await s.lanes.handBack(
        "fire",
        leases.map((lease) => ({
          item: { at: lease.until, id, value: { ...FIRE, inMemoryOnly: true } },
          lease,
        })),
      );
      const waiting = await s.lanes.listDue("fire", T0 + 2000, 10);
      assert.deepEqual(waiting.map((i) => [i.at, i.id, i.value]), [
        [T0 + 1000, id, FIRE],
        [T0 + 2000, id, FIRE],
      ]);
      assert.deepEqual(await s.lanes.listExpired("fire", T0 + 2000, 10), []);
      const item = { at: T0 + 1000, id, value: FIRE };
      assert.equal(await s.lanes.start("fire", item, leases[0], T0 + 16_000), null);
    });

    await step(
      t,
      "a job change withdraws the fires claimed ahead at the times it names",
      async (s) => {
        const { job, leases } = await claimed(s, [T0 + 1000, T0 + 2000, T0 + 3000]);
        const id = ["default", job.id, "local"];
        await s.lanes.handBack("fire", [{
          item: { at: T0 + 3000, id, value: FIRE },
          lease: leases[2],
        }]);
        await s.records.updateJob("default", job.id, (j) => ({
          job: { ...j, schedule: "*/10 * * * * *" },
          firstFireAt: T0 + 10_000,
          withdrawFires: [T0 + 2000, T0 + 3000],
        }));
        const held = await s.lanes.listExpired("fire", T0 + 3000, 10);
        assert.deepEqual(held.map((i) => i.at), [T0 + 1000]);
        assert.deepEqual(await s.lanes.listDue("fire", T0 + 3000, 10), []);
        assert.equal((await s.claims.getDue("default", job.id))?.at, T0 + 10_000);
      },
    );

    await step(t, "users, their sessions and sign-in failure counts", async (s, clock) => {
      const stamp = new Date(T0).toISOString();
      const user = {
        id: "alice",
        admin: false,
        passwordHash: null,
        createdAt: stamp,
        updatedAt: stamp,
      };
      await s.users.create(user);
      await assert.rejects(() => s.users.create(user), ConflictError);
      assert.equal(await s.users.anyPassword(), false);
      await s.users.update("alice", (u) => ({ ...u, passwordHash: "pbkdf2-sha256$x" }));
      assert.equal(await s.users.anyPassword(), true);
      assert.deepEqual((await s.users.list({ limit: 10 })).values.map((u) => u.id), ["alice"]);
      const session = (id: string) => ({
        id,
        userId: "alice",
        csrf: "c",
        createdAt: clock.now(),
        expiresAt: clock.now() + 3_600_000,
      });
      await s.sessions.put(session("s1"));
      await s.sessions.put(session("s2"));
      assert.deepEqual(await s.sessions.get("s1"), session("s1"));
      assert.equal(await s.sessions.deleteAllOf("alice", { keep: "s2" }), 1);
      assert.equal(await s.sessions.get("s1"), null);
      await s.sessions.delete(session("s2"));
      assert.equal(await s.sessions.get("s2"), null);
      const names = { pair: "alice\u0000ip", address: "\u0000ip" };
      const count = () =>
        s.loginFailures.change(names, 60_000, ({ pair, address }) => ({
          write: {
            pair: { count: (pair?.count ?? 0) + 1, lastAt: T0 },
            address: { count: (address?.count ?? 0) + 1, lastAt: T0 },
          },
          result: (pair?.count ?? 0) + 1,
        }));
      assert.deepEqual((await Promise.all([count(), count(), count()])).sort(), [1, 2, 3]);
      const after = await s.loginFailures.change(names, 60_000, (current) => ({
        write: { pair: null },
        result: current,
      }));
      assert.deepEqual(after, {
        pair: { count: 3, lastAt: T0 },
        address: { count: 3, lastAt: T0 },
      });
      const cleared = await s.loginFailures.change(
        names,
        60_000,
        (current) => ({ result: current }),
      );
      assert.deepEqual(cleared, { pair: null, address: { count: 3, lastAt: T0 } });
    });

    await step(t, "credentials are kept per owner", async (s) => {
      const credential = {
        id: "cred_1",
        userId: "default",
        type: "gcp_service_account" as const,
        client_email: "sa@p.iam.gserviceaccount.com",
        private_key_id: "k1",
        project_id: "p",
        sealedKey: "sealed",
        createdAt: new Date(T0).toISOString(),
      };
      await s.credentials.put(credential);
      assert.deepEqual(await s.credentials.get("default", "cred_1"), credential);
      assert.equal(await s.credentials.get("other", "cred_1"), null);
      assert.deepEqual(await s.credentials.list("default"), [credential]);
      await s.credentials.delete("default", "cred_1");
      assert.deepEqual(await s.credentials.list("default"), []);
    });

    await step(
      t,
      "a channel is created once, kept per owner and listed with a cursor",
      async (s) => {
        const first = channel({ id: "ch_a" });
        await s.channels.create(first);
        await assert.rejects(() => s.channels.create(first), ConflictError);
        assert.deepEqual(await s.channels.get("default", "ch_a"), first);
        assert.equal(await s.channels.get("other", "ch_a"), null);
        await s.channels.create(channel({ id: "ch_b" }));
        await s.channels.create(channel({ id: "ch_c" }));
        await s.channels.create(channel({ id: "ch_d", userId: "other" }));
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 5; page++) {
          const found = await s.channels.list("default", { limit: 2, cursor });
          seen.push(...found.values.map((c) => c.id));
          if (!found.cursor) break;
          cursor = found.cursor;
        }
        assert.deepEqual(seen, ["ch_a", "ch_b", "ch_c"]);
        const many = await s.channels.getMany("default", ["ch_c", "ch_d", "ch_a"]);
        assert.deepEqual(many.map((c) => c?.id ?? null), ["ch_c", null, "ch_a"]);
      },
    );

    await step(
      t,
      "an alert decision is compare-and-set and opens an incident with its notifications",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const [facts] = await s.alerts.decisionFacts([["default", job.id]]);
        assert.deepEqual(facts, { job, state: { state: null, version: null } });
        const incident = makeIncident(job, "inc_000000000001aaaaaaaaaaaaaaaa", T0);
        const notifications = [
          makeNotification(incident, "ntf_1", T0),
          makeNotification(incident, "ntf_2", T0 + 600_000),
        ];
        incident.notificationIds = notifications.map((n) => n.id);
        const decision = {
          current: facts.state,
          next: alertState(job, { state: "down", incidentId: incident.id, decidedThrough: T0 }),
          settle: [],
          incident: { next: incident, current: null },
          notifications,
        };
        assert.equal(await s.alerts.decide(decision), true);
        // The same read again is stale: nothing is written twice.
        assert.equal(await s.alerts.decide(decision), false);
        const read = await s.alerts.getState("default", job.id);
        assert.deepEqual(read.state, decision.next);
        assert.equal(
          (await s.records.getJobForRun("default", job.id))?.alertState?.version,
          read.version,
        );
        assert.deepEqual((await s.alerts.getIncident("default", incident.id))?.incident, incident);
        assert.equal(await s.alerts.getIncident("someone-else", incident.id), null);
        const open = await s.alerts.listIncidents("default", { state: "open", limit: 10 });
        assert.deepEqual(open.values.map((i) => i.id), [incident.id]);
        const stored = await s.alerts.getNotifications(["ntf_2", "ntf_1", "nope"]);
        assert.deepEqual(stored.map((n) => n?.notification.id ?? null), ["ntf_2", "ntf_1", null]);
        assert.deepEqual(await s.alerts.dueNotifications(T0 + 1, 10), [{ at: T0, id: "ntf_1" }]);
        assert.deepEqual((await s.alerts.dueNotifications(Infinity, 10)).map((d) => d.id), [
          "ntf_1",
          "ntf_2",
        ]);
        assert.equal(await s.alerts.countOpenIncidents(), 1);
      },
    );

    await step(
      t,
      "notifications saved together are compare-and-set as one, move their due entries and end leases",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const [facts] = await s.alerts.decisionFacts([["default", job.id]]);
        const incident = makeIncident(job, "inc_000000000001bbbbbbbbbbbbbbbb", T0);
        const notifications = [
          makeNotification(incident, "ntf_a", T0),
          makeNotification(incident, "ntf_b", T0),
        ];
        incident.notificationIds = notifications.map((n) => n.id);
        assert.equal(
          await s.alerts.decide({
            current: facts.state,
            next: alertState(job, { state: "down", incidentId: incident.id, decidedThrough: T0 }),
            settle: [],
            incident: { next: incident, current: null },
            notifications,
          }),
          true,
        );
        const [a, b] =
          (await s.alerts.getNotifications(["ntf_a", "ntf_b"])) as VersionedNotification[];
        const grouped = [
          { current: a, next: { ...a.notification, group: ["ntf_b"] } },
          { current: b, next: { ...b.notification, groupedInto: "ntf_a", nextAttemptAt: null } },
        ];
        const version = await s.alerts.saveNotifications(grouped);
        assert.equal(typeof version, "string");
        assert.deepEqual((await s.alerts.dueNotifications(Infinity, 10)).map((d) => d.id), [
          "ntf_a",
        ]);
        // Stale reads write nothing, not even the half that still matches.
        const stale = [
          {
            current: { ...a, version: version! },
            next: { ...a.notification, state: "sent" as const, nextAttemptAt: null },
          },
          { current: b, next: { ...b.notification, state: "sent" as const } },
        ];
        assert.equal(await s.alerts.saveNotifications(stale), null);
        assert.equal(
          (await s.alerts.getNotifications(["ntf_a"]))[0]?.notification.state,
          "pending",
        );
        stale[1].current = { ...b, version: version! };
        assert.notEqual(await s.alerts.saveNotifications(stale), null);
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), []);
        assert.equal(await s.alerts.countOpenIncidents(), 1);
      },
    );

    await step(
      t,
      "incidents are listed newest first, by state and job, and found by span",
      async (s) => {
        const job = makeJob({});
        const other = makeJob({});
        await s.records.createJob(job, null);
        await s.records.createJob(other, null);
        const ids = ["inc_000000000001", "inc_000000000002", "inc_000000000003"].map((p) =>
          p + "a".repeat(16)
        );
        // Two resolved incidents of `job` (hours 1–2 and 5–6), one open of `other`.
        const spans: [string, Job, number, number | null][] = [
          [ids[0], job, T0 + 3_600_000, T0 + 7_200_000],
          [ids[1], job, T0 + 18_000_000, T0 + 21_600_000],
          [ids[2], other, T0, null],
        ];
        for (const [id, owner, start, end] of spans) {
          const incident = makeIncident(owner, id, start);
          const current = await s.alerts.getState("default", owner.id);
          await s.alerts.decide({
            current,
            next: alertState(owner, { decidedThrough: start }),
            settle: [],
            incident: { next: incident, current: null },
          });
          if (end === null) continue;
          const read = (await s.alerts.getIncident("default", id))!;
          await s.alerts.decide({
            current: await s.alerts.getState("default", owner.id),
            next: alertState(owner, { decidedThrough: end }),
            settle: [],
            incident: {
              current: read,
              next: { ...incident, state: "resolved", endedAt: new Date(end).toISOString() },
            },
          });
        }
        const all = await s.alerts.listIncidents("default", { limit: 2 });
        assert.deepEqual(all.values.map((i) => i.id), [ids[2], ids[1]]);
        const rest = await s.alerts.listIncidents("default", { limit: 2, cursor: all.cursor! });
        assert.deepEqual(rest.values.map((i) => i.id), [ids[0]]);
        const resolved = await s.alerts.listIncidents("default", { state: "resolved", limit: 10 });
        assert.deepEqual(resolved.values.map((i) => i.id), [ids[1], ids[0]]);
        const ofJob = await s.alerts.listIncidents("default", { jobId: job.id, limit: 10 });
        assert.deepEqual(ofJob.values.map((i) => i.id), [ids[1], ids[0]]);
        const openOfJob = await s.alerts.listIncidents("default", {
          jobId: job.id,
          state: "open",
          limit: 10,
        });
        assert.deepEqual(openOfJob.values, []);
        const between = (from: number, to: number) =>
          s.alerts.incidentsBetween("default", job.id, from, to).then((l) => l.map((i) => i.id));
        assert.deepEqual(await between(T0, T0 + 86_400_000), [ids[0], ids[1]]);
        assert.deepEqual(await between(T0 + 7_200_000, T0 + 86_400_000), [ids[1]]);
        assert.deepEqual(await between(T0, T0 + 3_600_000), []);
        assert.deepEqual(await s.alerts.incidentsBetween("default", other.id, T0, T0 + 1), [
          (await s.alerts.getIncident("default", ids[2]))!.incident,
        ]);
        await s.records.deleteJob("default", job.id);
        await s.records.purgeDeletedJobs();
        assert.deepEqual(await between(T0, T0 + 86_400_000), []);
        assert.equal(await s.alerts.getIncident("default", ids[0]), null);
        assert.deepEqual((await s.alerts.getState("default", job.id)).state, null);
      },
    );

    await step(
      t,
      "a run's decide item is written with it, once, where decideKey names it",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const held: DecideRequest = {
          userId: job.userId,
          jobId: job.id,
          at: T0,
          dueAt: T0,
          heldUntil: T0 + 30_000,
          value: { end: T0 + 60_000, run: [T0, "local"] },
        };
        const completion = { ...complete(run(job, T0, "failure")), decide: held };
        assert.equal(await s.records.recordRun(completion), true);
        assert.equal(await s.records.recordRun(completion), false);
        // Held by the process that wrote it: the lane sees it once the hold ran out.
        assert.deepEqual(await s.lanes.listExpired("alert", T0 + 29_999, 10), []);
        const expired = await s.lanes.listExpired<DecideValue>("alert", T0 + 30_000, 10);
        assert.deepEqual(expired.map((i) => [i.at, i.id, i.value]), [
          [T0, [job.userId, job.id, T0], held.value],
        ]);
        assert.deepEqual(
          JSON.stringify(expired[0].lease?.ref),
          JSON.stringify(s.alerts.decideKey(held)),
        );
        await s.alerts.settle([s.alerts.decideKey(held)]);
        assert.deepEqual(await s.lanes.listExpired("alert", T0 + 30_000, 10), []);
      },
    );

    await step(
      t,
      "a run carries its decision made ahead in its own commit, and no decide item",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const held = heldDecide(job, T0);
        const next = alertState(job, { state: "up", decidedThrough: T0 });
        const decided = decidedAhead(await s.alerts.getState("default", job.id), next);
        const completion = { ...complete(run(job, T0, "success")), decide: held, decided };
        assert.equal(await s.records.recordRun(completion), true);
        assert.equal(decided.applied, true);
        const stored = await s.alerts.getState("default", job.id);
        assert.deepEqual(stored.state, next);
        assert.equal(decided.version, stored.version);
        assert.deepEqual(await s.lanes.listExpired("alert", T0 + 30_000, 10), []);
        assert.deepEqual(await s.records.countJobStates("default"), { ...NO_STATES, up: 1 });
        // Written once: a repeat finds the run and writes nothing, its decision neither.
        const again = decidedAhead(stored, next);
        assert.equal(await s.records.recordRun({ ...completion, decided: again }), false);
        assert.equal(again.applied, false);
        assert.equal((await s.alerts.getState("default", job.id)).version, stored.version);
      },
    );

    await step(
      t,
      "a decision made on a state that changed since is not written: its decide item is",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const read = await s.alerts.getState("default", job.id);
        const meanwhile = alertState(job, { state: "down", decidedThrough: T0 - 60_000 });
        assert.equal(await s.alerts.decide({ current: read, next: meanwhile, settle: [] }), true);
        const decided = decidedAhead(read, alertState(job, { decidedThrough: T0 }));
        const held = heldDecide(job, T0);
        const completion = { ...complete(run(job, T0, "success")), decide: held, decided };
        assert.equal(await s.records.recordRun(completion), true);
        assert.equal(decided.applied, false);
        assert.deepEqual((await s.alerts.getState("default", job.id)).state, meanwhile);
        const items = await s.lanes.listExpired<DecideValue>("alert", T0 + 30_000, 10);
        assert.deepEqual(items.map((i) => i.id), [[job.userId, job.id, T0]]);
        assert.ok((await s.alerts.runsBetween("default", job.id, T0, T0 + 1)).length === 1);
      },
    );

    await step(
      t,
      "a decision resolving an incident changed since read is not written: the run and its item are",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const incident = makeIncident(job, "inc_000000000001dddddddddddddddd", T0);
        const down = alertState(job, {
          state: "down",
          incidentId: incident.id,
          decidedThrough: T0,
        });
        const opened = await s.alerts.decide({
          current: await s.alerts.getState("default", job.id),
          next: down,
          settle: [],
          incident: { next: incident, current: null },
        });
        assert.equal(opened, true);
        const state = await s.alerts.getState("default", job.id);
        const read = (await s.alerts.getIncident("default", incident.id))!;
        // Acknowledged meanwhile: the incident's version moves, the state's does not.
        const acked = { ...read.incident, acknowledgedAt: new Date(T0).toISOString() };
        assert.equal(await s.alerts.saveIncident(read, acked), true);
        const at = T0 + 60_000;
        const decided = decidedAhead(state, alertState(job, { state: "up", decidedThrough: at }), {
          incident: { current: read, next: { ...read.incident, state: "resolved" } },
        });
        const completion = {
          ...complete(run(job, at, "success")),
          decide: heldDecide(job, at),
          decided,
        };
        assert.equal(await s.records.recordRun(completion), true);
        assert.equal(decided.applied, false);
        assert.deepEqual((await s.alerts.getState("default", job.id)).state, down);
        assert.equal((await s.alerts.getIncident("default", incident.id))?.incident.state, "open");
        const items = await s.lanes.listExpired<DecideValue>("alert", at + 30_000, 10);
        assert.deepEqual(items.map((i) => i.id), [[job.userId, job.id, at]]);
      },
    );

    await step(
      t,
      "of two runs of a job decided on one state read, one decision is written, the other's item",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const read = await s.alerts.getState("default", job.id);
        const [first, second] = [T0, T0 + 1].map((at) =>
          decidedAhead(read, alertState(job, { decidedThrough: at }))
        );
        await Promise.all([first, second].map((decided, i) =>
          s.records.recordRun({
            ...complete(run(job, T0 + i, "success")),
            decide: heldDecide(job, T0 + i),
            decided,
          })
        ));
        const applied = [first, second].filter((d) => d.applied);
        assert.equal(applied.length, 1);
        const state = await s.alerts.getState("default", job.id);
        assert.deepEqual(state.state, applied[0].decision.next);
        const other = first.applied ? T0 + 1 : T0;
        const items = await s.lanes.listExpired<DecideValue>("alert", T0 + 30_001, 10);
        assert.deepEqual(items.map((i) => i.id), [[job.userId, job.id, other]]);
      },
    );

    await step(
      t,
      "runs written together carry their decisions made ahead in their commit, and no decide items",
      async (s) => {
        const [a, b] = [makeJob({}), makeJob({})];
        for (const job of [a, b]) await s.records.createJob(job, null);
        // b has a state stored (updated in place), a none yet (created).
        const down = alertState(b, { state: "down", decidedThrough: T0 - 60_000 });
        const empty = await s.alerts.getState("default", b.id);
        assert.equal(await s.alerts.decide({ current: empty, next: down, settle: [] }), true);
        const ahead = async (job: Job) =>
          decidedAhead(
            await s.alerts.getState("default", job.id),
            alertState(job, { state: "up", decidedThrough: T0 }),
          );
        const [ofA, ofB] = [await ahead(a), await ahead(b)];
        const later = run(a, T0 + 60_000, "success");
        const chunk = [
          { ...complete(run(a, T0, "success")), decide: heldDecide(a, T0), decided: ofA },
          { ...complete(later), decide: heldDecide(a, T0 + 60_000) },
          { ...complete(run(b, T0, "success")), decide: heldDecide(b, T0), decided: ofB },
        ];
        assert.deepEqual(await s.records.recordRuns(chunk), [true, true, true]);
        for (const [job, decided] of [[a, ofA], [b, ofB]] as const) {
          assert.equal(decided.applied, true);
          const stored = await s.alerts.getState("default", job.id);
          assert.deepEqual(stored.state, decided.decision.next);
          assert.equal(decided.version, stored.version);
        }
        // Only the run that carried no decision left an item, decided after.
        const items = await s.lanes.listExpired<DecideValue>("alert", T0 + 120_000, 10);
        assert.deepEqual(items.map((i) => i.id), [[a.userId, a.id, T0 + 60_000]]);
        assert.deepEqual(await s.records.countJobStates("default"), { ...NO_STATES, up: 2 });
        // Written once: a repeat finds the runs and writes nothing, their decisions neither.
        const versions = [ofA.version, ofB.version];
        const again = [await ahead(a), await ahead(b)];
        const repeat = [
          { ...chunk[0], decided: again[0] },
          chunk[1],
          { ...chunk[2], decided: again[1] },
        ];
        assert.deepEqual(await s.records.recordRuns(repeat), [false, false, false]);
        assert.deepEqual(again.map((d) => d.applied), [false, false]);
        assert.deepEqual(
          [
            (await s.alerts.getState("default", a.id)).version,
            (await s.alerts.getState("default", b.id)).version,
          ],
          versions,
        );
      },
    );

    await step(
      t,
      "a decision in runs written together made on a state that changed since goes with its item",
      async (s) => {
        const [a, b] = [makeJob({}), makeJob({})];
        for (const job of [a, b]) await s.records.createJob(job, null);
        const read = await Promise.all([a, b].map((job) => s.alerts.getState("default", job.id)));
        // Another writer decides a's state after the read: a's decision is stale, b's not.
        const meanwhile = alertState(a, { state: "down", decidedThrough: T0 - 60_000 });
        assert.equal(
          await s.alerts.decide({ current: read[0], next: meanwhile, settle: [] }),
          true,
        );
        const [ofA, ofB] = [a, b].map((job, i) =>
          decidedAhead(read[i], alertState(job, { decidedThrough: T0 }))
        );
        const written = await s.records.recordRuns([
          { ...complete(run(a, T0, "success")), decide: heldDecide(a, T0), decided: ofA },
          { ...complete(run(b, T0, "success")), decide: heldDecide(b, T0), decided: ofB },
        ]);
        assert.deepEqual(written, [true, true]);
        assert.equal(ofA.applied, false);
        assert.equal(ofA.version, undefined);
        assert.deepEqual((await s.alerts.getState("default", a.id)).state, meanwhile);
        assert.equal(ofB.applied, true);
        const items = await s.lanes.listExpired<DecideValue>("alert", T0 + 30_000, 10);
        assert.deepEqual(items.map((i) => i.id), [[a.userId, a.id, T0]]);
        assert.equal((await s.alerts.runsBetween("default", a.id, T0, T0 + 1)).length, 1);
      },
    );

    await step(
      t,
      "of two runs of a job written together with decisions on one state read, one decision is written, the other's item",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const read = await s.alerts.getState("default", job.id);
        const [first, second] = [T0, T0 + 60_000].map((at) =>
          decidedAhead(read, alertState(job, { decidedThrough: at }))
        );
        const written = await s.records.recordRuns([first, second].map((decided, i) => ({
          ...complete(run(job, T0 + i * 60_000, "success")),
          decide: heldDecide(job, T0 + i * 60_000),
          decided,
        })));
        assert.deepEqual(written, [true, true]);
        const applied = [first, second].filter((d) => d.applied);
        assert.equal(applied.length, 1);
        const state = await s.alerts.getState("default", job.id);
        assert.deepEqual(state.state, applied[0].decision.next);
        assert.equal(applied[0].version, state.version);
        const other = first.applied ? T0 + 60_000 : T0;
        const items = await s.lanes.listExpired<DecideValue>("alert", T0 + 90_000, 10);
        assert.deepEqual(items.map((i) => i.id), [[job.userId, job.id, other]]);
      },
    );

    await step(
      t,
      "a decision opening an incident in runs written together is written whole or goes with its item",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const incident = makeIncident(job, "inc_000000000001cccccccccccccccc", T0);
        const notification = makeNotification(incident, "ntf_batch", T0);
        incident.notificationIds = [notification.id];
        const decided = decidedAhead(
          await s.alerts.getState("default", job.id),
          alertState(job, { state: "down", incidentId: incident.id, decidedThrough: T0 }),
          { incident: { next: incident, current: null }, notifications: [notification] },
        );
        const written = await s.records.recordRuns([
          { ...complete(run(job, T0, "failure")), decide: heldDecide(job, T0), decided },
        ]);
        assert.deepEqual(written, [true]);
        const state = await s.alerts.getState("default", job.id);
        const stored = await s.alerts.getIncident("default", incident.id);
        const items = await s.lanes.listExpired<DecideValue>("alert", T0 + 30_000, 10);
        const due = await s.alerts.dueNotifications(T0 + 1, 10);
        if (decided.applied) {
          // Carried: the state, the incident and its notification, all in the run's commit.
          assert.deepEqual(state.state, decided.decision.next);
          assert.equal(decided.version, state.version);
          assert.deepEqual(stored?.incident, incident);
          assert.deepEqual(due, [{ at: T0, id: notification.id }]);
          assert.deepEqual(items, []);
        } else {
          // Left to be decided after: nothing of it written, its item kept.
          assert.deepEqual(state, { state: null, version: null });
          assert.equal(stored, null);
          assert.deepEqual(due, []);
          assert.deepEqual(items.map((i) => i.id), [[job.userId, job.id, T0]]);
        }
      },
    );

    await step(
      t,
      "a certificate warning is written with its decision, due at once, and purged with its job",
      async (s) => {
        const job = makeJob({});
        const other = makeJob({});
        await s.records.createJob(job, null);
        await s.records.createJob(other, null);
        const warn = (of: Job, id: string, at: number | null): Notification => ({
          id,
          userId: of.userId,
          channelId: "ch_1",
          kind: "certificate.expiring",
          incidentIds: [],
          certificate: {
            jobId: of.id,
            runId: runId(T0, "local"),
            subject: "CN=shop.example.com",
            issuer: "CN=R11",
            validFrom: "2026-01-01T00:00:00.000Z",
            validTo: "2026-03-12T00:00:00.000Z",
            daysLeft: 9,
            thresholdDays: 14,
            serialNumber: "05",
            fingerprint256: "AA:BB",
          },
          state: "pending",
          nextAttemptAt: at,
          attempts: [],
          createdAt: new Date(T0).toISOString(),
        });
        for (const [of, ids] of [[job, ["ntf_c1", "ntf_c2"]], [other, ["ntf_c3"]]] as const) {
          const next = alertState(of, { certificatesWarned: ["AA:BB/2026-03-12T00:00:00.000Z"] });
          assert.equal(
            await s.alerts.decide({
              current: await s.alerts.getState("default", of.id),
              next,
              settle: [],
              notifications: ids.map((id) => warn(of, id, T0)),
            }),
            true,
          );
          assert.deepEqual((await s.alerts.getState("default", of.id)).state, next);
        }
        assert.deepEqual((await s.alerts.dueNotifications(T0 + 1, 10)).map((d) => d.id), [
          "ntf_c1",
          "ntf_c2",
          "ntf_c3",
        ]);
        const [sent] = (await s.alerts.getNotifications(["ntf_c2"])) as VersionedNotification[];
        await s.alerts.saveNotification(sent, {
          ...sent.notification,
          state: "sent",
          nextAttemptAt: null,
        });
        await s.records.deleteJob("default", job.id);
        await s.records.purgeDeletedJobs();
        const left = await s.alerts.getNotifications(["ntf_c1", "ntf_c2", "ntf_c3"]);
        assert.deepEqual(left.map((n) => n?.notification.id ?? null), [null, null, "ntf_c3"]);
        assert.deepEqual((await s.alerts.dueNotifications(Infinity, 10)).map((d) => d.id), [
          "ntf_c3",
        ]);
      },
    );

    await step(
      t,
      "a decision writing only the state settles its items, and only when its check holds",
      async (s) => {
        const job = makeJob({ name: "api" });
        await s.records.createJob(job, null);
        const held: DecideRequest = {
          userId: job.userId,
          jobId: job.id,
          at: T0,
          dueAt: T0,
          heldUntil: T0 + 30_000,
          value: { end: T0 + 60_000, run: [T0, "local"] },
        };
        await s.records.recordRun({ ...complete(run(job, T0, "success")), decide: held });
        const inState = async (state: JobAlertState["state"]) =>
          (await s.records.searchJobs("default", { state, limit: 10 })).values.map((v) => v.job.id);
        const decision = {
          current: await s.alerts.getState("default", job.id),
          next: alertState(job, { state: "up", decidedThrough: T0 }),
          settle: [s.alerts.decideKey(held)],
        };
        // Another writer decided first: nothing of this decision is written, its item stays.
        const other = { ...decision, next: alertState(job, { state: "down" }), settle: [] };
        assert.equal(await s.alerts.decide(other), true);
        assert.equal(await s.alerts.decide(decision), false);
        assert.equal((await s.lanes.listExpired("alert", T0 + 30_000, 10)).length, 1);
        assert.deepEqual(await inState("down"), [job.id]);
        const again = { ...decision, current: await s.alerts.getState("default", job.id) };
        assert.equal(await s.alerts.decide(again), true);
        assert.equal(await s.alerts.decide(again), false);
        assert.deepEqual(await s.lanes.listExpired("alert", T0 + 30_000, 10), []);
        assert.deepEqual(await inState("up"), [job.id]);
        assert.deepEqual(await inState("down"), []);
        assert.deepEqual((await s.alerts.getState("default", job.id)).state, decision.next);
      },
    );

    await step(
      t,
      "a decision settles its decide item and queues the next in the same commit",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const waiting: DecideRequest = {
          userId: job.userId,
          jobId: job.id,
          at: T0,
          dueAt: T0 + 60_000,
          value: { end: T0 + 60_000 },
        };
        await s.records.recordRun({ ...complete(run(job, T0, "success")), decide: waiting });
        const windowEnd = T0 + 3_600_000;
        const later: DecideRequest = {
          userId: job.userId,
          jobId: job.id,
          at: windowEnd,
          dueAt: windowEnd,
          value: { end: windowEnd, afterWindow: true },
        };
        const decision = {
          current: await s.alerts.getState("default", job.id),
          next: alertState(job, { state: "maintenance" }),
          settle: [s.alerts.decideKey(waiting)],
          queue: [later],
        };
        assert.equal(await s.alerts.decide(decision), true);
        assert.equal(await s.alerts.decide({ ...decision, queue: [] }), false);
        const due = await s.lanes.listDue<DecideValue>("alert", windowEnd, 10);
        assert.deepEqual(due.map((i) => [i.at, i.id, i.value]), [
          [windowEnd, [job.userId, job.id, windowEnd, "window"], later.value],
        ]);
        assert.deepEqual(
          (await s.records.getJobForRun("default", job.id))?.alertState?.state,
          decision.next,
        );
      },
    );

    await step(t, "a deleted job's notifications go with its incidents", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      const incident = makeIncident(job, "inc_000000000001dddddddddddddddd", T0);
      const reminder = makeNotification(incident, "ntf_d", T0 + 600_000);
      incident.notificationIds = [reminder.id];
      await s.alerts.decide({
        current: { state: null, version: null },
        next: alertState(job, { state: "down", incidentId: incident.id }),
        settle: [],
        incident: { next: incident, current: null },
        notifications: [reminder],
      });
      await s.records.deleteJob("default", job.id);
      assert.equal(await s.records.purgeDeletedJobs() >= 1, true);
      assert.deepEqual(await s.alerts.getNotifications([reminder.id]), [null]);
      assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), []);
    });

    await step(
      t,
      "a channel changes by compare-and-set and is deleted for its owner only",
      async (s) => {
        await s.channels.create(channel({ id: "ch_a", name: "n" }));
        await Promise.all(
          Array.from(
            { length: 5 },
            () => s.channels.update("default", "ch_a", (c) => ({ ...c, name: `${c.name}+` })),
          ),
        );
        assert.equal((await s.channels.get("default", "ch_a"))?.name, "n+++++");
        await assert.rejects(
          () => s.channels.update("other", "ch_a", (c) => c),
          NotFoundError,
        );
        await assert.rejects(() => s.channels.delete("other", "ch_a"), NotFoundError);
        await s.channels.delete("default", "ch_a");
        assert.equal(await s.channels.get("default", "ch_a"), null);
        await assert.rejects(() => s.channels.delete("default", "ch_a"), NotFoundError);
      },
    );

    await step(
      t,
      "an incident change is compare-and-set and cancels notifications with it",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const incident = makeIncident(job, "inc_000000000001bbbbbbbbbbbbbbbb", T0);
        const reminder = makeNotification(incident, "ntf_r", T0 + 600_000);
        incident.notificationIds = [reminder.id];
        await s.alerts.decide({
          current: { state: null, version: null },
          next: alertState(job, { state: "down", incidentId: incident.id }),
          settle: [],
          incident: { next: incident, current: null },
          notifications: [reminder],
        });
        const read = (await s.alerts.getIncident("default", incident.id))!;
        const [stored] = await s.alerts.getNotifications([reminder.id]);
        const acknowledged = {
          ...incident,
          acknowledgedAt: new Date(T0).toISOString(),
          acknowledgedBy: "ci",
        };
        const cancelled = { ...reminder, state: "cancelled" as const, nextAttemptAt: null };
        assert.equal(
          await s.alerts.saveIncident(read, acknowledged, [{ current: stored!, next: cancelled }]),
          true,
        );
        assert.equal(await s.alerts.saveIncident(read, acknowledged), false);
        assert.deepEqual(
          (await s.alerts.getIncident("default", incident.id))?.incident,
          acknowledged,
        );
        assert.deepEqual(
          (await s.alerts.getNotifications([reminder.id]))[0]?.notification,
          cancelled,
        );
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), []);
      },
    );

    await step(
      t,
      "a notification is saved with compare-and-set, its due entry moved",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const incident = makeIncident(job, "inc_000000000001cccccccccccccccc", T0);
        const first = makeNotification(incident, "ntf_x", T0);
        await s.alerts.decide({
          current: { state: null, version: null },
          next: alertState(job, {}),
          settle: [],
          notifications: [first],
        });
        const [read] = await s.alerts.getNotifications([first.id]);
        const retry = { ...first, nextAttemptAt: T0 + 5000 };
        assert.equal(await s.alerts.saveNotification(read!, retry), true);
        assert.equal(await s.alerts.saveNotification(read!, { ...retry, state: "sent" }), false);
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), [{
          at: T0 + 5000,
          id: "ntf_x",
        }]);
        const [again] = await s.alerts.getNotifications([first.id]);
        await s.alerts.saveNotification(again!, { ...retry, state: "sent", nextAttemptAt: null });
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), []);
      },
    );

    await step(
      t,
      "a due notification is the notification lane's item, saved with its lease ended",
      async (s) => {
        const job = makeJob({});
        await s.records.createJob(job, null);
        const incident = makeIncident(job, "inc_000000000001eeeeeeeeeeeeeeee", T0);
        const first = makeNotification(incident, "ntf_l", T0);
        await s.alerts.decide({
          current: { state: null, version: null },
          next: alertState(job, {}),
          settle: [],
          notifications: [first],
        });
        const due = await s.lanes.listDue<NotificationRef>("notification", T0, 10);
        assert.deepEqual(due.map((i) => [i.at, i.id, i.value]), [[T0, ["ntf_l"], {
          userId: job.userId,
          channelId: "ch_1",
          kind: "incident.opened",
          incidentIds: [incident.id],
        }]]);
        const [lease] = await s.lanes.take("notification", [{ item: due[0], until: T0 + 30_000 }]);
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), []);
        const [read] = await s.alerts.getNotifications([first.id]);
        const retry = { ...first, nextAttemptAt: T0 + 5000 };
        assert.equal(await s.alerts.saveNotification(read!, retry, { lease: lease!.ref }), true);
        assert.deepEqual(await s.lanes.listExpired("notification", T0 + 30_000, 10), []);
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), [{
          at: T0 + 5000,
          id: "ntf_l",
        }]);
        const [item] = await s.lanes.listDue<NotificationRef>("notification", T0 + 5000, 10);
        const [again] = await s.lanes.take("notification", [{ item, until: T0 + 35_000 }]);
        const [reread] = await s.alerts.getNotifications([first.id]);
        const sent = { ...retry, state: "sent" as const, nextAttemptAt: null };
        const version = await s.alerts.saveNotifications([{ current: reread!, next: sent }], {
          leases: [again!.ref],
        });
        assert.equal((await s.alerts.getNotifications([first.id]))[0]?.version, version);
        assert.deepEqual(await s.lanes.listExpired("notification", T0 + 35_000, 10), []);
        assert.deepEqual(await s.alerts.dueNotifications(Infinity, 10), []);
      },
    );

    await step(t, "runsBetween reads a job's runs in a span, oldest first", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      for (const at of [T0, T0 + 1000, T0 + 2000]) {
        await s.records.recordRun(complete(run(job, at, "success")));
      }
      const runs = await s.alerts.runsBetween("default", job.id, T0 + 1000, T0 + 2000);
      assert.deepEqual(runs.map((r) => r.scheduledAt), [new Date(T0 + 1000).toISOString()]);
      assert.equal((await s.alerts.runsBetween("default", job.id, T0, T0 + 5000)).length, 3);
    });

    await step(t, "job statistics merge with compare-and-set", async (s) => {
      const jobs = [{ userId: "default", jobId: "a" }, { userId: "default", jobId: "b" }];
      const add = () =>
        s.stats.merge(jobs, (current, i) => ({
          hours: [{ h: 1, n: (current?.hours[0]?.n ?? 0) + i + 1, ok: 0, latency: [], late: [] }],
        }));
      await Promise.all([add(), add()]);
      const records = await s.stats.get("default", ["a", "b", "c"]);
      assert.deepEqual(records.map((r) => r?.hours[0].n ?? null), [2, 4, null]);
    });

    await step(t, "a heartbeat job is found by its token hash until it is deleted", async (s) => {
      const heartbeat = { graceSeconds: 60, sealedToken: "v1.x.y", tokenHash: "ab".repeat(32) };
      const job = makeJob({ type: "heartbeat", heartbeat: { ...heartbeat, checksFrom: T0 } });
      await s.records.createJob(job, T0 + 60_000);
      const target = { userId: "default", jobId: job.id, enabled: true };
      assert.deepEqual(await s.heartbeats.findByTokenHash(heartbeat.tokenHash), target);
      assert.equal(await s.heartbeats.findByTokenHash("cd".repeat(32)), null);
      await s.records.updateJob("default", job.id, (current) => ({
        job: { ...current, enabled: false },
        firstFireAt: null,
      }));
      assert.deepEqual(await s.heartbeats.findByTokenHash(heartbeat.tokenHash), {
        ...target,
        enabled: false,
      });
      await s.heartbeats.markStart("default", job.id, T0);
      const ref = { userId: "default", jobId: job.id };
      const { guards: _, ...facts } = await s.heartbeats.pingFacts(heartbeat.tokenHash, ref);
      assert.deepEqual(facts, { target: { ...target, enabled: false }, startedAt: T0 });
      await s.records.deleteJob("default", job.id);
      assert.equal(await s.heartbeats.findByTokenHash(heartbeat.tokenHash), null);
      const gone = await s.heartbeats.pingFacts(heartbeat.tokenHash, ref);
      assert.deepEqual([gone.target, gone.startedAt], [null, null]);
    });

    await step(t, "a start mark is cleared only by the ping that ends it", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      const startOf = async () =>
        (await s.heartbeats.pingFacts("ef".repeat(32), { userId: "default", jobId: job.id }))
          .startedAt;
      assert.equal(await startOf(), null);
      await s.heartbeats.markStart("default", job.id, T0);
      await s.heartbeats.markStart("default", job.id, T0 + 5);
      // A ping that read the first start finds the second one: it stays.
      await s.heartbeats.clearStart("default", job.id, T0);
      assert.equal(await startOf(), T0 + 5);
      await s.heartbeats.clearStart("default", job.id, T0 + 5);
      assert.equal(await startOf(), null);
    });

    await step(
      t,
      "a run guarded by ping facts is refused once the job or its start changed",
      async (s) => {
        const tokenHash = "12".repeat(32);
        const job = makeJob({
          type: "heartbeat",
          heartbeat: { graceSeconds: 60, sealedToken: "v1.x.y", tokenHash, checksFrom: T0 },
        });
        await s.records.createJob(job, null);
        const ref = { userId: "default", jobId: job.id };
        const guarded = (at: number, guards: readonly unknown[]) =>
          s.records.recordRun({ ...complete(run(job, at, "success")), guards });
        const first = await s.heartbeats.pingFacts(tokenHash, ref);
        assert.equal(await guarded(T0 + 1, first.guards), true);
        assert.equal(
          await guarded(T0 + 2, first.guards),
          true,
          "the facts hold for ping after ping",
        );
        await s.heartbeats.markStart("default", job.id, T0 + 3);
        assert.equal(await guarded(T0 + 4, first.guards), false);
        assert.equal(await s.records.getRun("default", job.id, runId(T0 + 4, "local")), null);
        const second = await s.heartbeats.pingFacts(tokenHash, ref);
        assert.equal(await guarded(T0 + 5, second.guards), true);
        await s.records.updateJob("default", job.id, (current) => ({
          job: { ...current, enabled: false },
          firstFireAt: null,
        }));
        assert.equal(await guarded(T0 + 6, second.guards), false);
        assert.equal((await s.records.getJob("default", job.id))?.count, 3);
      },
    );

    await step(t, "successPingBetween sees success pings inside its bounds only", async (s) => {
      const job = makeJob({});
      await s.records.createJob(job, null);
      const ping = (at: number, status: Run["status"], suffix: string) => {
        const details = {
          kind: "success" as const,
          exitCode: null,
          method: "GET",
          source: null,
          forwardedFor: null,
          userAgent: null,
          body: "",
          bodyTruncated: false,
          ignored: false,
        };
        const r = { ...run(job, at, status), id: runId(at, suffix), ping: details };
        return s.records.recordRun({ ...complete(r), suffix });
      };
      await ping(T0 + 100, "success", "ping-a");
      await ping(T0 + 200, "failure", "ping-b");
      // A late check's own failing run, and a success that is no ping, answer nothing.
      await s.records.recordRun(complete(run(job, T0 + 300, "success")));
      const between = (from: number, to: number) =>
        s.heartbeats.successPingBetween("default", job.id, { from, to });
      assert.equal(await between(T0 + 100, T0 + 100), true);
      assert.equal(await between(T0, T0 + 99), false);
      assert.equal(await between(T0 + 101, T0 + 400), false);
      await ping(T0 + 250, "success", "ping-c");
      assert.equal(await between(T0 + 101, T0 + 400), true);
      assert.equal(await between(T0 + 251, T0 + 250), false);
      assert.equal(
        await s.heartbeats.successPingBetween("other", job.id, { from: T0, to: T0 + 400 }),
        false,
      );
    });

    await step(
      t,
      "maintenance windows are kept per owner and changed with compare-and-set",
      async (s) => {
        const window = maintenanceWindow({ id: "mw_a" });
        await s.maintenance.create(window);
        await assert.rejects(() => s.maintenance.create(window), ConflictError);
        await s.maintenance.create(maintenanceWindow({ id: "mw_b" }));
        await s.maintenance.create(maintenanceWindow({ id: "mw_c", userId: "other" }));
        assert.deepEqual(await s.maintenance.get("default", "mw_a"), window);
        assert.equal(await s.maintenance.get("other", "mw_a"), null);
        const first = await s.maintenance.list("default", { limit: 1 });
        assert.deepEqual(first.values.map((w) => w.id), ["mw_a"]);
        const rest = await s.maintenance.list("default", { limit: 5, cursor: first.cursor! });
        assert.deepEqual(rest.values.map((w) => w.id), ["mw_b"]);
        await Promise.all(
          Array.from({ length: 4 }, () =>
            s.maintenance.update("default", "mw_a", (w) => ({
              window: { ...w, name: `${w.name}+` },
              cut: null,
            }))),
        );
        assert.equal((await s.maintenance.get("default", "mw_a"))?.name, "m++++");
        const change = (w: MaintenanceWindow) => ({ window: w, cut: null });
        await assert.rejects(() => s.maintenance.update("other", "mw_a", change), NotFoundError);
        const deleted = await s.maintenance.delete("default", "mw_a", () => null);
        assert.equal(deleted.name, "m++++");
        assert.equal(await s.maintenance.get("default", "mw_a"), null);
        await assert.rejects(
          () => s.maintenance.delete("default", "mw_a", () => null),
          NotFoundError,
        );
      },
    );

    await step(
      t,
      "maintenance windows are found by when they stop covering, cuts by when made",
      async (s) => {
        const iso = (ms: number) => new Date(ms).toISOString();
        const hour = 3_600_000;
        await s.maintenance.create(maintenanceWindow({ id: "mw_past", end: iso(T0 - hour) }));
        await s.maintenance.create(maintenanceWindow({ id: "mw_soon", end: iso(T0 + hour) }));
        await s.maintenance.create(maintenanceWindow({
          id: "mw_weekly",
          userId: "other",
          start: null,
          end: null,
          schedule: "0 2 * * 0",
          durationMinutes: 60,
          timezone: "UTC",
        }));
        const live = async (from: number) => (await s.maintenance.liveSince(from)).map((w) => w.id);
        assert.deepEqual(await live(T0), ["mw_soon", "mw_weekly"]);
        assert.deepEqual(await live(T0 - hour), ["mw_past", "mw_soon", "mw_weekly"]);
        // Ending early moves the window in the index with its record.
        const cut = { userId: "default", windowId: "mw_soon", at: T0, all: false, jobIds: ["j1"] };
        await s.maintenance.update("default", "mw_soon", (w) => ({
          window: { ...w, endedAt: iso(T0 - 2 * hour) },
          cut,
        }));
        assert.deepEqual(await live(T0 - hour), ["mw_past", "mw_weekly"]);
        const other = { ...cut, userId: "other", windowId: "mw_weekly", at: T0 + 1, all: true };
        await s.maintenance.delete("other", "mw_weekly", () => ({ ...other, jobIds: [] }));
        assert.deepEqual(await live(T0), []);
        assert.deepEqual(await s.maintenance.cutsBetween(T0, T0 + 1), [cut]);
        assert.deepEqual(await s.maintenance.cutsBetween(T0, T0 + 2), [cut, {
          ...other,
          jobIds: [],
        }]);
        assert.deepEqual(await s.maintenance.cutsBetween(T0 + 2, T0 + hour), []);
      },
    );

    await step(t, "a status page's slug is unique across owners, taken atomically", async (s) => {
      const page = statusPage({ id: "sp_a", slug: "acme" });
      await s.statusPages.create(page);
      await assert.rejects(
        () => s.statusPages.create(statusPage({ id: "sp_b", userId: "other", slug: "acme" })),
        ConflictError,
      );
      assert.deepEqual(await s.statusPages.bySlug("acme"), page);
      assert.deepEqual(await s.statusPages.get("default", "sp_a"), page);
      assert.equal(await s.statusPages.get("other", "sp_a"), null);
      assert.equal(await s.statusPages.bySlug("nobody"), null);
      const racers = await Promise.allSettled(
        Array.from(
          { length: 6 },
          (_, i) =>
            s.statusPages.create(statusPage({ id: `sp_r${i}`, userId: `u${i}`, slug: "race" })),
        ),
      );
      assert.equal(racers.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of racers) {
        if (r.status === "rejected") assert.ok(r.reason instanceof ConflictError);
      }
      await s.statusPages.create(statusPage({ id: "sp_c", slug: "second" }));
      const first = await s.statusPages.list("default", { limit: 1 });
      assert.deepEqual(first.values.map((p) => p.id), ["sp_a"]);
      const rest = await s.statusPages.list("default", { limit: 5, cursor: first.cursor! });
      assert.deepEqual(rest.values.map((p) => p.id), ["sp_c"]);
    });

    await step(
      t,
      "a status page changes by compare-and-set, moving its slug with it",
      async (s) => {
        await s.statusPages.create(statusPage({ id: "sp_a", slug: "acme" }));
        await s.statusPages.create(statusPage({ id: "sp_b", slug: "taken" }));
        await Promise.all(
          Array.from(
            { length: 4 },
            () => s.statusPages.update("default", "sp_a", (p) => ({ ...p, title: `${p.title}+` })),
          ),
        );
        assert.equal((await s.statusPages.bySlug("acme"))?.title, "Acme++++");
        await assert.rejects(
          () => s.statusPages.update("default", "sp_a", (p) => ({ ...p, slug: "taken" })),
          ConflictError,
        );
        const moved = await s.statusPages.update("default", "sp_a", (p) => ({ ...p, slug: "new" }));
        assert.equal(await s.statusPages.bySlug("acme"), null);
        assert.deepEqual(await s.statusPages.bySlug("new"), moved);
        await assert.rejects(
          () => s.statusPages.update("other", "sp_a", (p) => p),
          NotFoundError,
        );
        await assert.rejects(() => s.statusPages.delete("other", "sp_a"), NotFoundError);
        await s.statusPages.delete("default", "sp_a");
        assert.equal(await s.statusPages.bySlug("new"), null);
        assert.equal(await s.statusPages.get("default", "sp_a"), null);
        await s.statusPages.create(statusPage({ id: "sp_d", userId: "other", slug: "new" }));
      },
    );
  }
}

function channel(fields: Partial<Channel>): Channel {
  const stamp = new Date(T0).toISOString();
  return {
    id: "ch_x",
    userId: "default",
    name: "ops",
    type: "slack",
    config: { webhookUrl: "v1.sealed.url" },
    secret: null,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
}

const FIRE: FireValue = { trigger: "AUTO", timeoutMs: 5000 };

/** A job firing every second whose fires at `fires` are claimed, held ahead. */
async function claimed(s: Stores, fires: number[]): Promise<{ job: Job; leases: Lease[] }> {
  const job = makeJob({ schedule: "* * * * * *" });
  await s.records.createJob(job, fires[0]);
  const due = (await s.claims.getDue("default", job.id))!;
  const nextAt = fires[fires.length - 1] + 1000;
  const [leases] = await s.claims.claim([{ due, fires, fire: FIRE, missed: [], nextAt }], []);
  assert.ok(leases, "the claim holds");
  return { job, leases };
}

function makeJob(fields: Partial<Job>): Job {
  const stamp = new Date(T0).toISOString();
  return {
    id: crypto.randomUUID(),
    userId: "default",
    name: "job",
    url: "http://127.0.0.1:9/",
    method: "GET",
    headers: null,
    body: null,
    schedule: "*/5 * * * *",
    timezone: "UTC",
    enabled: true,
    timeoutMs: 5000,
    expect: null,
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
}

/** `countJobStates` of an owner with no jobs. */
const NO_STATES = { pending: 0, up: 0, degraded: 0, down: 0, paused: 0, maintenance: 0 };

/** A decision made ahead of its run's write on the state `current`, not applied yet. */
function decidedAhead(
  current: VersionedAlertState,
  next: JobAlertState,
  more: Partial<AlertDecision> = {},
): DecidedAhead {
  return { decision: { current, next, settle: [], ...more }, applied: false };
}

/** A single-location run's decide item, held by its writer for 30 s (lib/alerts/engine.ts). */
function heldDecide(job: Job, at: number): DecideRequest {
  return {
    userId: job.userId,
    jobId: job.id,
    at,
    dueAt: at,
    heldUntil: at + 30_000,
    value: { end: at + 1, run: [at, "local"] },
  };
}

function alertState(job: Job, fields: Partial<JobAlertState>): JobAlertState {
  return {
    userId: job.userId,
    jobId: job.id,
    state: "up",
    failures: 0,
    successes: 0,
    incidentId: null,
    decidedThrough: T0,
    since: T0,
    streakSince: null,
    verdict: null,
    ...fields,
  };
}

function makeIncident(job: Job, id: string, startedAt: number): Incident {
  return {
    id,
    userId: job.userId,
    jobId: job.id,
    state: "open",
    kind: "down",
    startedAt: new Date(startedAt).toISOString(),
    endedAt: null,
    durationMs: null,
    cause: "Expected status 2xx, got 503",
    runIds: [runId(startedAt, "local")],
    locations: ["local"],
    acknowledgedAt: null,
    acknowledgedBy: null,
    updates: [],
    notificationIds: [],
  };
}

function makeNotification(incident: Incident, id: string, at: number): Notification {
  return {
    id,
    userId: incident.userId,
    channelId: "ch_1",
    kind: at > T0 ? "incident.reminder" : "incident.opened",
    incidentIds: [incident.id],
    state: "pending",
    nextAttemptAt: at,
    attempts: [],
    createdAt: new Date(T0).toISOString(),
  };
}

function run(job: Job, at: number, status: Run["status"]): Run {
  return {
    id: runId(at, "local"),
    jobId: job.id,
    userId: job.userId,
    where: "local",
    trigger: "AUTO",
    status,
    code: status === "success" ? 200 : 0,
    scheduledAt: new Date(at).toISOString(),
    startedAt: status === "missed" ? null : new Date(at).toISOString(),
    finishedAt: status === "missed" ? null : new Date(at + 10).toISOString(),
    durationMs: status === "missed" ? null : 10,
    lateMs: null,
    response: null,
    error: null,
    failure: null,
  };
}

function complete(run: Run): RunCompletion {
  return {
    run,
    scheduledAt: Date.parse(run.scheduledAt),
    suffix: run.where,
    lease: null,
    runsStored: 0,
    counts: true,
  };
}

function checkResult(job: Job, at: number, success: boolean): CheckResult {
  return {
    monitor_id: job.id,
    checked_at: new Date(at).toISOString(),
    status_code: success ? 200 : 503,
    response_time_ms: 42,
    success,
    error_message: success ? null : "HTTP 503",
    response_body_sample: success ? "ok" : null,
    worker_id: "aws-tyo1a",
  };
}

function webhook(job: Job) {
  const stamp = new Date(T0).toISOString();
  return {
    id: `webhook_${job.id}`,
    userId: job.userId,
    jobId: job.id,
    endpoint: "https://example.com/hook",
    headers: null,
    secret: "sealed",
    previousSecrets: [],
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

function delivery(job: Job, run: Run, at: number): Delivery {
  return {
    id: `wh_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
    userId: job.userId,
    jobId: job.id,
    webhookId: `webhook_${job.id}`,
    runId: run.id,
    test: false,
    state: "pending",
    createdAt: new Date(at).toISOString(),
    nextAttemptAt: at,
    attempts: [],
    attemptsInRound: 0,
    payload: {
      job: {
        id: job.id,
        name: job.name,
        url: job.url,
        method: job.method,
        schedule: job.schedule,
        timezone: job.timezone,
        headers: null,
        body: null,
        enabled: true,
        count: 1,
        lastRunAt: null,
        nextRunAt: null,
        createdAt: job.createdAt,
        updatedAt: job.updatedAt,
        userId: job.userId,
      },
      result: {
        status: "success",
        code: 200,
        response: { headers: {}, body: "" },
        startedAt: run.scheduledAt,
        finishedAt: run.scheduledAt,
        durationMs: 10,
        trigger: "AUTO",
      },
    },
  };
}

function inboundHook(): HookRecord {
  const stamp = new Date(T0).toISOString();
  return {
    id: `hook_${"0".repeat(32)}`,
    userId: "default",
    name: "hook",
    enabled: true,
    verification: { mode: "none" },
    challenge: false,
    action: { type: "store" },
    relaySecret: null,
    maxBodyBytes: 1024 * 1024,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

function inboundEvent(
  hook: HookRecord,
  id: string,
  deliveryId: string,
  body: Uint8Array,
): InboundEvent {
  return {
    id,
    hookId: hook.id,
    userId: hook.userId,
    receivedAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 86_400_000).toISOString(),
    deliveryId,
    conflictOf: null,
    contentType: "application/json",
    headers: {},
    bodySize: body.length,
    body: new TextDecoder().decode(body),
    bodyTruncated: false,
    bodyChunks: 1,
    verification: { mode: "none", verified: false },
    action: { state: "pending", nextAttemptAt: T0, attemptsInRound: 0, attempts: [] },
  };
}

function newEvent(event: InboundEvent, body: Uint8Array, dueAt: number | null, now: number) {
  return { event, body, dueAt, now, bodySha256: "b".repeat(64), seenTtlMs: 86_400_000 };
}

function actionAttempt(n: number): ActionAttempt {
  const at = new Date(T0 + n * 1000).toISOString();
  return {
    n,
    at,
    type: "store",
    success: false,
    status: 0,
    durationMs: 1,
    error: "x",
    detail: null,
  };
}

function deliveryAttempt(n: number, response: string): Attempt {
  const at = new Date(T0 + n * 1000).toISOString();
  return { n, at, status: 503, durationMs: 5, success: false, error: "HTTP 503", response };
}

function maintenanceWindow(fields: Partial<MaintenanceWindow>): MaintenanceWindow {
  const stamp = new Date(T0).toISOString();
  return {
    id: "mw_1",
    userId: "default",
    name: "m",
    jobIds: ["j1"],
    all: false,
    start: new Date(T0 - 7_200_000).toISOString(),
    end: new Date(T0 + 7_200_000).toISOString(),
    schedule: null,
    durationMinutes: null,
    timezone: null,
    endedAt: null,
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
}

function statusPage(fields: Partial<StatusPage>): StatusPage {
  const stamp = new Date(T0).toISOString();
  return {
    id: "sp_x",
    userId: "default",
    slug: "x",
    title: "Acme",
    description: null,
    groups: [{ name: "API", jobIds: ["j1"] }],
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
}
