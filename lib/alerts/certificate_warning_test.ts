import assert from "node:assert/strict";
import type { Run, RunTls } from "../store/types.ts";
import {
  certificateDaysInput,
  certificateKey,
  type CertificateWarningCheck,
  certificateWarningDue,
  MAX_WARNED_CERTIFICATES,
} from "./certificate_warning.ts";

const DAY_MS = 86_400_000;
const VALID_TO = Date.UTC(2027, 2, 1, 12, 0, 0);

/** A 90-day certificate (Let's Encrypt's) ending at `validTo`. */
function certificate(overrides: Partial<RunTls> = {}, lifetimeDays = 90): RunTls {
  const validTo = overrides.validTo ?? new Date(VALID_TO).toISOString();
  return {
    subject: "CN=api.example.com",
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    validFrom: new Date(Date.parse(validTo) - lifetimeDays * DAY_MS).toISOString(),
    validTo,
    daysLeft: 0,
    serialNumber: "04A1B2",
    fingerprint256: "AA:BB:CC",
    ...overrides,
  };
}

function check(overrides: Partial<CertificateWarningCheck> = {}): CertificateWarningCheck {
  return {
    certificateDays: undefined,
    run: { tls: certificate(), error: null },
    at: VALID_TO - 10 * DAY_MS,
    warned: [],
    ...overrides,
  };
}

Deno.test("a certificate warning is due once the time left reaches the job's days, not before", () => {
  const days = { certificateDays: 21 };
  assert.equal(certificateWarningDue(check({ ...days, at: VALID_TO - 21 * DAY_MS - 1 })), null);
  const due = certificateWarningDue(check({ ...days, at: VALID_TO - 21 * DAY_MS }));
  assert.ok(due);
  assert.equal(due.daysLeft, 21);
  assert.equal(due.thresholdDays, 21);
  assert.equal(due.key, certificateKey(certificate()));
  assert.equal(due.validTo, "2027-03-01T12:00:00.000Z");
});

Deno.test("without certificateDays a job is warned 14 days before expiry", () => {
  assert.equal(certificateWarningDue(check({ at: VALID_TO - 14 * DAY_MS - 1 })), null);
  assert.equal(certificateWarningDue(check({ at: VALID_TO - 14 * DAY_MS }))?.thresholdDays, 14);
});

Deno.test("the default warns a short-lived certificate a sixth of its lifetime before expiry", () => {
  // A 6-day certificate is renewed every few days: warned only when one day is left.
  const sixDays = { run: { tls: certificate({}, 6), error: null } };
  assert.equal(certificateWarningDue(check({ ...sixDays, at: VALID_TO - DAY_MS - 1 })), null);
  const due = certificateWarningDue(check({ ...sixDays, at: VALID_TO - DAY_MS }));
  assert.equal(due?.thresholdDays, 1);
  assert.equal(due?.daysLeft, 1);
  // A 47-day one (the 2029 maximum): at 7.8 days.
  const short = { run: { tls: certificate({}, 47), error: null } };
  assert.equal(certificateWarningDue(check({ ...short, at: VALID_TO - 8 * DAY_MS })), null);
  assert.equal(
    certificateWarningDue(check({ ...short, at: VALID_TO - 7 * DAY_MS }))?.thresholdDays,
    47 / 6,
  );
  // The job's own number is taken as given.
  assert.ok(
    certificateWarningDue(check({ ...sixDays, certificateDays: 5, at: VALID_TO - 5 * DAY_MS })),
  );
});

Deno.test("certificateDays null turns the warning off", () => {
  assert.equal(
    certificateWarningDue(check({ certificateDays: null, at: VALID_TO - DAY_MS })),
    null,
  );
});

Deno.test("a certificate is warned about once: the same one never again, a renewed one when its time comes", () => {
  const first = certificateWarningDue(check());
  assert.ok(first);
  assert.deepEqual(first.warned, [first.key]);
  // Later runs with the same certificate.
  assert.equal(certificateWarningDue(check({ warned: first.warned, at: VALID_TO - DAY_MS })), null);
  // Renewed: 90 days more, another fingerprint. Not due until 14 days before its own end.
  const renewedTo = VALID_TO + 60 * DAY_MS;
  const renewed = {
    tls: certificate({ validTo: new Date(renewedTo).toISOString(), fingerprint256: "DD:EE:FF" }),
    error: null,
  };
  assert.equal(certificateWarningDue(check({ run: renewed, warned: first.warned })), null);
  const second = certificateWarningDue(
    check({ run: renewed, warned: first.warned, at: renewedTo - 3 * DAY_MS }),
  );
  assert.ok(second);
  assert.notEqual(second.key, first.key);
  assert.deepEqual(second.warned, [second.key, first.key]);
  // A host serving both (two servers behind one name): neither is warned again.
  assert.equal(
    certificateWarningDue(check({ warned: second.warned, at: VALID_TO - 2 * DAY_MS })),
    null,
  );
});

Deno.test("the certificates warned about are kept newest first, at most eight", () => {
  const warned = Array.from({ length: MAX_WARNED_CERTIFICATES }, (_, i) => `old-${i}`);
  const due = certificateWarningDue(check({ warned }));
  assert.equal(due?.warned.length, MAX_WARNED_CERTIFICATES);
  assert.equal(due?.warned[0], due?.key);
  assert.equal(due?.warned.at(-1), `old-${MAX_WARNED_CERTIFICATES - 2}`);
});

Deno.test("no certificate warning for an http run, an expired certificate or a run that failed on TLS", () => {
  const http: Pick<Run, "tls" | "error"> = { error: null };
  assert.equal(certificateWarningDue(check({ run: http })), null);
  // Expired: the run fails on it and the outage alert tells why.
  assert.equal(certificateWarningDue(check({ at: VALID_TO })), null);
  const refused = {
    tls: certificate(),
    error: { category: "tls", message: "invalid peer certificate: NotValidForName" },
  };
  assert.equal(certificateWarningDue(check({ run: refused })), null);
  // Other failures (a 500, a timeout after the handshake) still saw a trusted certificate.
  const timedOut = { tls: certificate(), error: { category: "timeout", message: "Timed out" } };
  assert.ok(certificateWarningDue(check({ run: timedOut })));
});

Deno.test("a certificate warning says how long is left, for which name, until when", () => {
  assert.equal(
    certificateWarningDue(check())?.message,
    "Certificate expires in 10 days: CN=api.example.com, valid until 2027-03-01 12:00 UTC, " +
      "issued by C=US, O=Let's Encrypt, CN=R11",
  );
  assert.match(
    certificateWarningDue(check({ at: VALID_TO - DAY_MS - 1 }))?.message ?? "",
    /^Certificate expires in 1 day:/,
  );
  assert.match(
    certificateWarningDue(check({ at: VALID_TO - 60_000 }))?.message ?? "",
    /^Certificate expires in less than a day:/,
  );
});

Deno.test("certificateDays takes a whole number of days from 1 to 365, or null", () => {
  for (const good of [1, 14, 365, null]) assert.ok(certificateDaysInput.safeParse(good).success);
  for (const bad of [0, 1.5, 366, -3, "14"]) {
    assert.equal(certificateDaysInput.safeParse(bad).success, false, String(bad));
  }
});
