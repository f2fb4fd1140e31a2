import assert from "node:assert/strict";
import {
  decideInterval,
  endMaintenance,
  initialState,
  type IntervalInput,
  type Thresholds,
  type Transition,
} from "./state_machine.ts";
import type { AlertState, JobAlertState, Verdict } from "./types.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);
const THREE_ONE: Thresholds = { failureThreshold: 3, successThreshold: 1 };

let ids = 0;
const newId = () => `inc_${++ids}`;

function interval(n: number, verdict: Verdict, fields: Partial<IntervalInput> = {}): IntervalInput {
  return { at: T0 + n * MINUTE, verdict, paused: false, maintenance: false, ...fields };
}

/** Runs verdicts through the machine from a fresh state, one interval a minute. */
function play(
  verdicts: (Verdict | IntervalInput)[],
  thresholds: Thresholds = THREE_ONE,
  from: JobAlertState = initialState("default", "job", T0),
): { state: JobAlertState; steps: Transition[] } {
  let state = from;
  const steps: Transition[] = [];
  verdicts.forEach((v, i) => {
    const input = typeof v === "string" ? interval(i + 1, v) : v;
    const step = decideInterval(state, input, thresholds, newId);
    assert.ok(step, `interval ${i + 1} was decided`);
    steps.push(step);
    state = step.next;
  });
  return { state, steps };
}

const states = (steps: Transition[]): AlertState[] => steps.map((s) => s.next.state);
const opens = (steps: Transition[]) => steps.map((s, i) => (s.open ? i + 1 : 0)).filter(Boolean);
const resolves = (steps: Transition[]) =>
  steps.map((s, i) => (s.resolve ? i + 1 : 0)).filter(Boolean);

Deno.test("a new job is pending with nothing counted", () => {
  assert.deepEqual(initialState("u", "j", T0), {
    userId: "u",
    jobId: "j",
    state: "pending",
    failures: 0,
    successes: 0,
    incidentId: null,
    decidedThrough: 0,
    since: T0,
    streakSince: null,
    verdict: null,
  });
});

Deno.test("decideInterval() opens an incident on the failure that reaches the threshold, once", () => {
  const { state, steps } = play(["pass", "fail", "fail", "fail", "fail", "fail"]);
  assert.deepEqual(states(steps), ["up", "up", "up", "down", "down", "down"]);
  assert.deepEqual(opens(steps), [4]);
  assert.equal(state.failures, 5);
  assert.equal(state.successes, 0);
  assert.match(state.incidentId ?? "", /^inc_/);
  // The incident is the streak's: it began with the first failing interval.
  assert.equal(state.streakSince, T0 + 2 * MINUTE);
  assert.equal(state.since, T0 + 4 * MINUTE);
});

Deno.test("decideInterval() with a threshold of 1 opens on the first failure", () => {
  const { steps } = play(["fail"], { failureThreshold: 1, successThreshold: 1 });
  assert.deepEqual(states(steps), ["down"]);
  assert.deepEqual(opens(steps), [1]);
});

Deno.test("decideInterval() starts counting again after a pass breaks the failures", () => {
  const { state, steps } = play(["fail", "fail", "pass", "fail", "fail"]);
  assert.deepEqual(opens(steps), []);
  assert.equal(state.failures, 2);
  assert.equal(state.streakSince, T0 + 4 * MINUTE);
  // Never confirmed up or down: failures below the threshold leave it pending.
  assert.deepEqual(states(steps), ["pending", "pending", "up", "up", "up"]);
});

Deno.test("decideInterval() resolves on the pass that reaches the success threshold, once", () => {
  const thresholds = { failureThreshold: 1, successThreshold: 3 };
  const { state, steps } = play(
    ["fail", "pass", "pass", "fail", "pass", "pass", "pass", "pass"],
    thresholds,
  );
  assert.deepEqual(states(steps), ["down", "down", "down", "down", "down", "down", "up", "up"]);
  assert.deepEqual(opens(steps), [1]);
  assert.deepEqual(resolves(steps), [7]);
  assert.equal(state.incidentId, null);
  // The passing streak that resolved it began at interval 5.
  assert.equal(steps[6].next.streakSince, T0 + 5 * MINUTE);
});

Deno.test("decideInterval() opens a new incident when the job fails again after resolving", () => {
  const { steps } = play(["fail", "pass", "fail"], { failureThreshold: 1, successThreshold: 1 });
  assert.deepEqual(opens(steps), [1, 3]);
  assert.deepEqual(resolves(steps), [2]);
  assert.notEqual(steps[0].next.incidentId, steps[2].next.incidentId);
});

Deno.test("decideInterval() shows degraded for a slow pass, and degraded counts as passing", () => {
  const { steps } = play(["pass", "degraded", "degraded", "pass"]);
  assert.deepEqual(states(steps), ["up", "degraded", "degraded", "up"]);
  const resolved = play(["fail", "degraded"], { failureThreshold: 1, successThreshold: 1 });
  assert.deepEqual(states(resolved.steps), ["down", "degraded"]);
  assert.deepEqual(resolves(resolved.steps), [2]);
});

Deno.test("decideInterval() keeps a degraded job degraded while failures are below the threshold", () => {
  const { steps } = play(["degraded", "fail", "fail"]);
  assert.deepEqual(states(steps), ["degraded", "degraded", "degraded"]);
});

Deno.test("decideInterval() decides each interval once: the same or an older one changes nothing", () => {
  const { state } = play(["fail", "fail"]);
  assert.equal(decideInterval(state, interval(2, "fail"), THREE_ONE, newId), null);
  assert.equal(decideInterval(state, interval(1, "pass"), THREE_ONE, newId), null);
  assert.ok(decideInterval(state, interval(3, "fail"), THREE_ONE, newId)?.open);
});

Deno.test("decideInterval() pauses a disabled job without counting its interval", () => {
  const before = play(["fail", "fail"]).state;
  const step = decideInterval(before, interval(3, "fail", { paused: true }), THREE_ONE, newId)!;
  assert.equal(step.next.state, "paused");
  assert.equal(step.next.failures, 2);
  assert.equal(step.next.decidedThrough, T0 + 3 * MINUTE);
  assert.equal(step.next.since, T0 + 3 * MINUTE);
  assert.equal(step.open || step.resolve, false);
  // Enabled again: counting goes on; a failure below the threshold is not confirmed yet.
  const after = decideInterval(step.next, interval(4, "pass"), THREE_ONE, newId)!;
  assert.equal(after.next.state, "up");
  const failing = decideInterval(step.next, interval(4, "fail"), THREE_ONE, newId)!;
  assert.equal(failing.open, true);
});

Deno.test("decideInterval() keeps an open incident open while paused, and down after", () => {
  const down = play(["fail"], { failureThreshold: 1, successThreshold: 2 }).state;
  const paused = decideInterval(down, interval(2, "pass", { paused: true }), THREE_ONE, newId)!;
  assert.equal(paused.next.incidentId, down.incidentId);
  const back = decideInterval(paused.next, interval(3, "fail"), THREE_ONE, newId)!;
  assert.equal(back.next.state, "down");
  assert.equal(back.open, false);
});

Deno.test("decideInterval() in maintenance counts failures but opens nothing", () => {
  const window = (n: number, v: Verdict) => interval(n, v, { maintenance: true });
  const { state, steps } = play(["pass", window(2, "fail"), window(3, "fail"), window(4, "fail")]);
  assert.deepEqual(states(steps), ["up", "maintenance", "maintenance", "maintenance"]);
  assert.deepEqual(opens(steps), []);
  assert.equal(state.failures, 3);
  assert.equal(state.incidentId, null);
  assert.equal(state.since, T0 + 2 * MINUTE);
});

Deno.test("decideInterval() in maintenance neither resolves an open incident", () => {
  const down = play(["fail"], { failureThreshold: 1, successThreshold: 1 }).state;
  const step = decideInterval(down, interval(2, "pass", { maintenance: true }), THREE_ONE, newId)!;
  assert.equal(step.resolve, false);
  assert.equal(step.next.incidentId, down.incidentId);
  assert.equal(step.next.state, "maintenance");
});

Deno.test("endMaintenance() opens the incident of a job still failing past its threshold", () => {
  const window = (n: number) => interval(n, "fail", { maintenance: true });
  const { state } = play([window(1), window(2), window(3)]);
  const end = T0 + 3 * MINUTE + 30_000;
  const step = endMaintenance(state, THREE_ONE, end, newId)!;
  assert.equal(step.open, true);
  assert.equal(step.next.state, "down");
  assert.equal(step.next.since, end);
  assert.equal(step.next.streakSince, T0 + MINUTE);
  // Only once: the state is no longer maintenance.
  assert.equal(endMaintenance(step.next, THREE_ONE, end + 1, newId), null);
});

Deno.test("endMaintenance() resolves an incident the job recovered from during the window", () => {
  const down = play(["fail"], { failureThreshold: 1, successThreshold: 2 }).state;
  const { state } = play(
    [interval(2, "pass", { maintenance: true }), interval(3, "pass", { maintenance: true })],
    THREE_ONE,
    down,
  );
  const step = endMaintenance(
    state,
    { failureThreshold: 1, successThreshold: 2 },
    T0 + 4 * MINUTE,
    newId,
  )!;
  assert.equal(step.resolve, true);
  assert.equal(step.next.state, "up");
  assert.equal(step.next.incidentId, null);
});

Deno.test("endMaintenance() names the state the counters show when nothing opens or resolves", () => {
  const cases: [Verdict[], AlertState][] = [
    [["pass"], "up"],
    [["degraded"], "degraded"],
    [["fail"], "pending"],
    [[], "pending"],
  ];
  for (const [verdicts, expected] of cases) {
    const { state } = play(verdicts.map((v, i) => interval(i + 1, v, { maintenance: true })));
    const from = verdicts.length ? state : { ...state, state: "maintenance" as const };
    const step = endMaintenance(from, THREE_ONE, T0 + 10 * MINUTE, newId)!;
    assert.equal(step.next.state, expected, verdicts.join(","));
    assert.equal(step.open || step.resolve, false);
  }
});

Deno.test("endMaintenance() leaves a job alone that a later interval decided already", () => {
  const { state } = play(["pass"]);
  assert.equal(endMaintenance(state, THREE_ONE, T0 + 5 * MINUTE, newId), null);
});

Deno.test("decideInterval() follows every verdict sequence of length 4 to the gatus rules", () => {
  // Against a plain reference: open when failures reach the threshold with none open, resolve
  // when passes reach it with one open; every interval counts once.
  const verdicts: Verdict[] = ["pass", "degraded", "fail"];
  const thresholds: Thresholds = { failureThreshold: 2, successThreshold: 2 };
  const sequences: Verdict[][] = [[]];
  for (let n = 0; n < 4; n++) {
    for (const seq of sequences.splice(0)) for (const v of verdicts) sequences.push([...seq, v]);
  }
  assert.equal(sequences.length, 81);
  for (const seq of sequences) {
    let failures = 0;
    let successes = 0;
    let open = false;
    const expected: string[] = [];
    for (const v of seq) {
      failures = v === "fail" ? failures + 1 : 0;
      successes = v === "fail" ? 0 : successes + 1;
      if (!open && failures >= 2) {
        open = true;
        expected.push("open");
      } else if (open && successes >= 2) {
        open = false;
        expected.push("resolve");
      } else expected.push("-");
    }
    const { steps } = play(seq, thresholds);
    const got = steps.map((s) => (s.open ? "open" : s.resolve ? "resolve" : "-"));
    assert.deepEqual(got, expected, seq.join(","));
    for (const s of steps) assert.equal(s.next.state === "down", s.next.incidentId !== null);
  }
});
