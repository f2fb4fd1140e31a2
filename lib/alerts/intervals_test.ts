import assert from "node:assert/strict";
import { parseSchedule } from "../schedule/schedule.ts";
import type { Job, Run } from "../store/types.ts";
import { defaultAlertSettings } from "./alert_settings.ts";
import {
  causeOf,
  DEADLINE_MARGIN_MS,
  deadlineOf,
  intervalOf,
  intervalOutcome,
  locationsOf,
  quorumOf,
  verdictOf,
} from "./intervals.ts";
import type { AlertSettings } from "./types.ts";

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

function job(fields: Partial<Job> = {}): Job {
  const stamp = new Date(T0).toISOString();
  return {
    id: "job-1",
    userId: "default",
    name: "API",
    url: "https://example.com/",
    method: "GET",
    headers: null,
    body: null,
    schedule: "@every 60s",
    timezone: "UTC",
    enabled: true,
    timeoutMs: 10_000,
    expect: null,
    createdAt: stamp,
    updatedAt: stamp,
    ...fields,
  };
}

const THREE = job({
  workers: [
    { workerId: "aws", checkMinute: 0, checkSecond: 20 },
    { workerId: "gcp", checkMinute: 0, checkSecond: 40 },
  ],
});

function run(where: string, at: number, fields: Partial<Run> = {}): Run {
  return {
    id: `${at}-${where}`,
    jobId: "job-1",
    userId: "default",
    where,
    trigger: "AUTO",
    status: "success",
    code: 200,
    scheduledAt: new Date(at).toISOString(),
    startedAt: new Date(at).toISOString(),
    finishedAt: new Date(at + 10).toISOString(),
    durationMs: 10,
    lateMs: 0,
    response: null,
    error: null,
    failure: null,
    ...fields,
  };
}

const failed = (where: string, at: number) =>
  run(where, at, { status: "failure", code: 503, failure: "Expected status 2xx, got 503" });

const SETTINGS: AlertSettings = {
  failureThreshold: 1,
  successThreshold: 1,
  degradedLatencyMs: 500,
  quorum: null,
  channels: [],
  remindEveryMinutes: null,
};

const schedule = (j: Job) => () => parseSchedule(j.schedule, { key: j.id });

Deno.test("locationsOf() lists local first, then the workers; local: false leaves it out", () => {
  assert.deepEqual(locationsOf(THREE), ["local", "aws", "gcp"]);
  assert.deepEqual(locationsOf({ ...THREE, local: false }), ["aws", "gcp"]);
  assert.deepEqual(locationsOf(job()), ["local"]);
});

Deno.test("intervalOf() brings a worker's check down to the start of its interval", () => {
  const { phaseMs } = parseSchedule("@every 60s", { key: "job-1" }) as { phaseMs: number };
  const start = T0 + phaseMs;
  const local = intervalOf(THREE, run("local", start), schedule(THREE));
  assert.deepEqual(local, { start, end: start + 60_000 });
  assert.deepEqual(intervalOf(THREE, run("aws", start + 20_000), schedule(THREE)), local);
  assert.deepEqual(intervalOf(THREE, run("gcp", start + 59_999), schedule(THREE)), local);
  assert.deepEqual(intervalOf(THREE, run("gcp", start + 60_000), schedule(THREE)), {
    start: start + 60_000,
    end: start + 120_000,
  });
});

Deno.test("intervalOf() starts a local fire's interval at the fire without parsing the schedule", () => {
  const daily = job({ schedule: "0 9 * * *" });
  const at = Date.UTC(2026, 2, 3, 9);
  const never = () => {
    throw new Error("parsed");
  };
  assert.deepEqual(intervalOf(daily, run("local", at), never), { start: at, end: at + 1 });
});

Deno.test("intervalOf() leaves out missed fires and a multi-location job's manual runs", () => {
  assert.equal(intervalOf(job(), run("local", T0, { status: "missed" }), schedule(job())), null);
  assert.equal(intervalOf(THREE, run("local", T0, { trigger: "MANUAL" }), schedule(THREE)), null);
  // A job checked from one place: a manual run is an interval of its own.
  assert.deepEqual(
    intervalOf(job(), run("local", T0 + 1234, { trigger: "MANUAL" }), schedule(job())),
    { start: T0 + 1234, end: T0 + 1235 },
  );
});

Deno.test("deadlineOf() waits for the checks' deadline and a margin past the interval", () => {
  assert.equal(deadlineOf(THREE, { start: 0, end: 60_000 }), 60_000 + 10_000 + DEADLINE_MARGIN_MS);
});

Deno.test("verdictOf() fails a failure, degrades a slow pass, passes the rest", () => {
  assert.equal(verdictOf(failed("local", T0), SETTINGS), "fail");
  assert.equal(verdictOf(run("local", T0, { durationMs: 501 }), SETTINGS), "degraded");
  assert.equal(verdictOf(run("local", T0, { durationMs: 500 }), SETTINGS), "pass");
  assert.equal(
    verdictOf(run("local", T0, { durationMs: 9999 }), { degradedLatencyMs: null }),
    "pass",
  );
});

Deno.test("quorumOf() defaults to a majority and stays within the locations", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => quorumOf({ quorum: null }, n)), [1, 2, 2, 3, 3]);
  assert.equal(quorumOf({ quorum: 1 }, 3), 1);
  assert.equal(quorumOf({ quorum: 5 }, 3), 3);
  assert.equal(quorumOf({ quorum: null }, 0), 1);
});

Deno.test("intervalOutcome() fails an interval when a quorum of locations failed it", () => {
  const cases: [Run[], string][] = [
    [[failed("local", T0), failed("aws", T0 + 20_000), run("gcp", T0 + 40_000)], "fail"],
    [[failed("local", T0), run("aws", T0 + 20_000), run("gcp", T0 + 40_000)], "pass"],
    [[failed("local", T0), run("aws", T0, { durationMs: 900 }), run("gcp", T0)], "degraded"],
    [[run("local", T0, { durationMs: 900 }), run("aws", T0), run("gcp", T0)], "pass"],
    // gcp never reported: it counts toward neither side.
    [[failed("local", T0), run("aws", T0 + 20_000)], "pass"],
    [[failed("local", T0), failed("aws", T0 + 20_000)], "fail"],
  ];
  for (const [runs, verdict] of cases) {
    assert.equal(
      intervalOutcome(THREE, runs, SETTINGS).verdict,
      verdict,
      JSON.stringify(runs.map((r) => r.where)),
    );
  }
});

Deno.test("intervalOutcome() counts one run per location, the newest, failed ones in location order", () => {
  const outcome = intervalOutcome(
    THREE,
    [
      failed("gcp", T0 + 40_000),
      run("local", T0),
      failed("local", T0 + 1),
      failed("aws", T0 + 20_000),
    ],
    SETTINGS,
  );
  assert.equal(outcome.verdict, "fail");
  assert.deepEqual(outcome.runs.map((r) => r.id), [
    `${T0 + 1}-local`,
    `${T0 + 20_000}-aws`,
    `${T0 + 40_000}-gcp`,
  ]);
  assert.deepEqual(outcome.failed.map((r) => r.where), ["local", "aws", "gcp"]);
});

Deno.test("causeOf() names each location's error when several failed", () => {
  assert.equal(causeOf([failed("local", T0)]), "Expected status 2xx, got 503");
  const worker = run("aws", T0, {
    status: "failure",
    error: { category: "worker", message: "timeout" },
  });
  assert.equal(
    causeOf([failed("local", T0), worker]),
    "local: Expected status 2xx, got 503; aws: timeout",
  );
  assert.equal(causeOf([run("x", T0, { status: "failure", code: 500 })]), "status 500");
});

Deno.test("defaultAlertSettings() gives a monitor 3 failures and a less frequent job 1", () => {
  const thresholds = (text: string) =>
    defaultAlertSettings(parseSchedule(text, { key: "job-1" }), T0).failureThreshold;
  assert.equal(thresholds("@every 30s"), 3);
  assert.equal(thresholds("@every 5m"), 3);
  assert.equal(thresholds("@every 6m"), 1);
  assert.equal(thresholds("*/5 * * * *"), 3);
  assert.equal(thresholds("* * * * *"), 3);
  assert.equal(thresholds("*/10 * * * *"), 1);
  assert.equal(thresholds("0 9 * * *"), 1);
  // Every minute, but only from 9 to 10: 60 fires a day, not a monitor.
  assert.equal(thresholds("* 9 * * *"), 1);
  assert.deepEqual(defaultAlertSettings(parseSchedule("@hourly", { key: "j" }), T0), {
    failureThreshold: 1,
    successThreshold: 1,
    degradedLatencyMs: null,
    quorum: null,
    channels: [],
    remindEveryMinutes: null,
  });
});
