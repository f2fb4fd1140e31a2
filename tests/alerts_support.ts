/** Shared set-up for the alerting tests: a switchable probe, minute steps, a test calendar. */
import type { IncidentDetail, UptimeView } from "../lib/alerts/incidents.ts";
import type { AlertStateView } from "../lib/alerts/incidents.ts";
import type {
  Incident,
  MaintenanceCalendar,
  MaintenanceWindow,
  NotifySend,
} from "../lib/alerts/types.ts";
import type { ProbeResult } from "../lib/net/probe.ts";
import { expectStatus, okProbe, T0, type TestSystem } from "./helpers.ts";

export const MINUTE = 60_000;

/** What the target answers: `up` 200 in 12 ms, `slow` 200 in 900 ms, `down` 503. */
export type Answer = "up" | "slow" | "down";

/** A probe whose answer the test switches. */
export function switchableProbe(): { probe: () => ProbeResult; set: (a: Answer) => void } {
  let answer: Answer = "up";
  return {
    probe: () =>
      answer === "up"
        ? okProbe()
        : answer === "slow"
        ? { ...okProbe(), durationMs: 900 }
        : { ...okProbe(), success: false, code: 503, failure: "Expected status 2xx, got 503" },
    set: (a) => (answer = a),
  };
}

/**
 * Moves the clock to minute `n` after T0, ticks as Deno.cron would, and waits until every due
 * run is recorded and decided.
 */
export async function atMinute(t: TestSystem, n: number, seconds = 0): Promise<void> {
  t.clock.set(T0 + n * MINUTE + seconds * 1000);
  await t.system.cronTick();
  await t.settle();
}

export async function stateOf(t: TestSystem, jobId: string): Promise<AlertStateView> {
  const answer = await t.call<AlertStateView>("GET", `/api/jobs/${jobId}/state`);
  expectStatus(answer, 200);
  return answer.body.data;
}

export async function incidentsOf(t: TestSystem, query = ""): Promise<Incident[]> {
  const answer = await t.call<Incident[]>("GET", `/api/incidents${query}`);
  expectStatus(answer, 200);
  return answer.body.data;
}

export async function incident(t: TestSystem, id: string): Promise<IncidentDetail> {
  const answer = await t.call<IncidentDetail>("GET", `/api/incidents/${id}`);
  expectStatus(answer, 200);
  return answer.body.data;
}

export async function uptimeOf(t: TestSystem, jobId: string): Promise<UptimeView> {
  const answer = await t.call<UptimeView>("GET", `/api/jobs/${jobId}/uptime`);
  expectStatus(answer, 200);
  return answer.body.data;
}

/** Maintenance windows as fixed spans covering every job of every owner. */
export class TestCalendar implements MaintenanceCalendar {
  constructor(readonly windows: [number, number][] = []) {}

  coveringAt(userId: string, _jobId: string, at: number): Promise<MaintenanceWindow | null> {
    const span = this.windows.find(([start, end]) => start <= at && at < end);
    if (!span) return Promise.resolve(null);
    const stamp = new Date(T0).toISOString();
    return Promise.resolve({
      id: "mw_test",
      userId,
      name: "test window",
      jobIds: [],
      all: true,
      start: new Date(span[0]).toISOString(),
      end: new Date(span[1]).toISOString(),
      schedule: null,
      durationMinutes: null,
      timezone: null,
      endedAt: null,
      createdAt: stamp,
      updatedAt: stamp,
    });
  }

  spans(_userId: string, _jobId: string, from: number, to: number): Promise<[number, number][]> {
    return Promise.resolve(
      this.windows.filter(([start, end]) => start < to && end > from)
        .sort((a, b) => a[0] - b[0]),
    );
  }
}

/**
 * Channels named as the tests name them (`ch_ops`, …): created for real, since a job may name
 * only its owner's channels. `label` turns a stored channel id back into the test's name.
 */
export async function namedChannels(t: TestSystem, names: string[]) {
  const ids = new Map<string, string>();
  for (const name of names) {
    const created = await t.call<{ id: string }>("POST", "/api/channels", {
      body: { name, type: "pagerduty", config: { routingKey: "R".repeat(32) } },
    });
    expectStatus(created, 201);
    ids.set(name, created.body.data.id);
  }
  const names_ = new Map([...ids].map(([name, id]) => [id, name]));
  return { id: (name: string) => ids.get(name)!, label: (id: string) => names_.get(id) ?? id };
}

/** A channel sender whose every send is delivered at once; `sent` lists `<channel name> <kind>`. */
export function delivered(sent: string[]): NotifySend {
  return (channel, message) => {
    sent.push(`${channel.name} ${message.kind}`);
    return Promise.resolve({
      success: true,
      status: 202,
      durationMs: 1,
      error: null,
      response: "",
      permanent: false,
      retryAfterMs: null,
    });
  };
}
