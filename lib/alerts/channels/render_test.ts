import assert from "node:assert/strict";
import type { AlertMessageItem, CertificateMessage, Incident, IncidentMessage } from "../types.ts";
import {
  certificateFacts,
  fitBlocks,
  formatDuration,
  headline,
  itemFacts,
  truncate,
} from "./render.ts";

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

function item(name: string, state: Incident["state"]): AlertMessageItem {
  return {
    incident: {
      id: `inc_${name}`,
      userId: "u",
      jobId: `job_${name}`,
      state,
      kind: "down",
      startedAt: new Date(T0 - 3_725_000).toISOString(),
      endedAt: state === "resolved" ? new Date(T0).toISOString() : null,
      durationMs: state === "resolved" ? 3_725_000 : null,
      cause: "Timed out after 5000 ms",
      runIds: [],
      locations: [],
      acknowledgedAt: null,
      acknowledgedBy: null,
      updates: [],
      notificationIds: [],
    },
    job: { id: `job ${name}`, name, url: null },
    state: state === "open" ? "down" : "up",
  };
}

function message(kind: IncidentMessage["kind"], items: AlertMessageItem[]): IncidentMessage {
  return { kind, items, baseUrl: "https://h.example" };
}

Deno.test("formatDuration() reads as a person says it, from seconds to days", () => {
  assert.deepEqual(
    [0, 45_000, 300_000, 3_600_000, 7_500_000, 86_400_000, 100_800_000].map(formatDuration),
    ["0 s", "45 s", "5 min", "1 h", "2 h 5 min", "1 d", "1 d 4 h"],
  );
});

Deno.test("headline() names one job, or counts a group's jobs down and up again", () => {
  assert.equal(headline(message("incident.opened", [item("API", "open")])), "🔴 Down: API");
  assert.equal(headline(message("incident.reminder", [item("API", "open")])), "🔴 Still down: API");
  assert.equal(
    headline(message("incident.resolved", [item("API", "resolved")])),
    "✅ Up again: API",
  );
  assert.equal(
    headline(
      message("incidents.grouped", [item("a", "open"), item("b", "open"), item("c", "resolved")]),
    ),
    "🔴 2 jobs down, 1 job up again",
  );
  assert.equal(
    headline(message("incidents.grouped", [item("a", "resolved"), item("b", "resolved")])),
    "✅ 2 jobs up again",
  );
  assert.equal(
    headline(message("test", [item("Sample", "open")])),
    "🧪 Test notification from Hibiki",
  );
});

Deno.test("itemFacts() times an open incident by the clock and a resolved one by its span, linking the job", () => {
  const open = itemFacts(
    message("incident.opened", [item("API", "open")]),
    item("API", "open"),
    T0,
  );
  assert.equal(open.timing, "since 2026-03-02 10:57:55 UTC (1 h 2 min)");
  assert.equal(open.link, "https://h.example/admin/jobs/job%20API");
  const done = itemFacts(
    message("incident.resolved", [item("API", "resolved")]),
    item("API", "resolved"),
    T0,
  );
  assert.equal(done.timing, "down 1 h 2 min, 2026-03-02 10:57:55 UTC – 2026-03-02 12:00:00 UTC");
  assert.equal(done.state, "up again");
});

Deno.test("truncate() never splits an emoji in half", () => {
  assert.equal(truncate("ab🔴cd", 4), "ab…");
  assert.equal(truncate("abcd", 4), "abcd");
});

Deno.test("fitBlocks() keeps what fits and always leaves room to count the rest", () => {
  const blocks = ["aaaa", "bbbb", "cccc", "dddd"];
  const more = (n: number) => `+${n}`;
  assert.equal(fitBlocks(blocks, { budget: 100, separator: "\n", more }), "aaaa\nbbbb\ncccc\ndddd");
  const cut = fitBlocks(blocks, { budget: 12, separator: "\n", more });
  assert.equal(cut, "aaaa\nbbbb\n+2");
  assert.ok(cut.length <= 12);
});

function certificate(daysLeft: number): CertificateMessage {
  return {
    kind: "certificate.expiring",
    job: { id: "job shop", name: "Shop\nfront", url: null },
    state: "up",
    certificate: {
      jobId: "job shop",
      runId: `${T0}-local`,
      subject: "CN=shop.example.com",
      issuer: "CN=R11",
      validFrom: "2026-01-01T00:00:00.000Z",
      validTo: "2026-03-12T18:00:00.000Z",
      daysLeft,
      thresholdDays: 14,
      serialNumber: "05",
      fingerprint256: "AA:BB",
    },
    baseUrl: "https://h.example",
  };
}

Deno.test("a certificate warning's headline and facts say how long is left, until when, and link the job", () => {
  const facts = certificateFacts(certificate(10));
  assert.equal(facts.headline, "⚠️ Certificate expires in 10 days: Shop front");
  assert.equal(headline(certificate(10)), facts.headline);
  assert.equal(facts.validTo, "2026-03-12 18:00:00 UTC");
  assert.equal(facts.link, "https://h.example/admin/jobs/job%20shop");
  assert.equal(certificateFacts(certificate(1)).left, "1 day");
  assert.equal(certificateFacts(certificate(0)).left, "less than a day");
});
