/**
 * Whether a run's certificate calls for a warning (issue 13, "TLS certificates"): a pure
 * decision for the alerting engine to make with each recorded run that has `tls`
 * (lib/scheduler/runner.ts records it for https jobs run here).
 *
 * A warning is due when the time left to `validTo` is at most the job's
 * `alerts.certificateDays`, once per certificate: the engine keeps the keys of the certificates
 * it warned about (`warned`, newest first, a few) and stores the list the decision hands back.
 * A renewed certificate is another key, so it is warned about again when its own days come;
 * several kept (not only the last) so a name served by two servers with two certificates does
 * not warn back and forth.
 *
 * The default (`certificateDays` absent) is 14 days: certbot and most ACME clients renew with
 * 30 days left, so at 14 renewal has failed for two weeks and someone must look, while a
 * healthy site never warns. For short-lived certificates (6-day ones, and the 47-day maximum
 * from 2029) 14 days would warn about every one, so the default is also never more than a
 * sixth of the certificate's lifetime (half of the last third, where ACME clients renew). A
 * number the job sets is taken as given; null turns the warning off.
 *
 * No warning for an expired certificate or a run that failed on TLS: such a run fails, and the
 * outage alert says why.
 */
import { z } from "zod";
import type { Run, RunTls } from "../store/types.ts";

export const DEFAULT_CERTIFICATE_DAYS = 14;
/** Certificates remembered as warned about, per job. */
export const MAX_WARNED_CERTIFICATES = 8;
const DAY_MS = 86_400_000;

/** `alerts.certificateDays` in a job's body (for the alert settings' input schema). */
export const certificateDaysInput = z.number({ error: "must be a number" })
  .int("must be a whole number").min(1, "must be at least 1").max(365, "must be at most 365")
  .nullable();

export interface CertificateWarningCheck {
  /** The job's `alerts.certificateDays`: undefined for the default, null for never. */
  certificateDays: number | null | undefined;
  run: Pick<Run, "tls" | "error">;
  /** The time of the decision (the run's start), epoch ms. */
  at: number;
  /** Keys of the certificates this job was warned about, newest first. */
  warned: readonly string[];
}

export interface CertificateWarning {
  /** Which certificate (`certificateKey`). */
  key: string;
  /** Whole days left at `at`. */
  daysLeft: number;
  /** The days before expiry the warning was due from. */
  thresholdDays: number;
  validTo: string;
  subject: string;
  issuer: string;
  /** What to tell (an incident's cause, a notification's line). */
  message: string;
  /** `warned` with this certificate first, at most `MAX_WARNED_CERTIFICATES`: to be stored. */
  warned: string[];
}

/** Names one certificate: its SHA-256 fingerprint, with the end of its validity to read. */
export function certificateKey(tls: Pick<RunTls, "fingerprint256" | "validTo">): string {
  return `${tls.fingerprint256}/${tls.validTo}`;
}

/** The warning due for this run's certificate, or null when none is. */
export function certificateWarningDue(check: CertificateWarningCheck): CertificateWarning | null {
  const { tls, error } = check.run;
  if (!tls || error?.category === "tls" || check.certificateDays === null) return null;
  const validTo = Date.parse(tls.validTo);
  const left = validTo - check.at;
  const thresholdDays = check.certificateDays ??
    Math.min(DEFAULT_CERTIFICATE_DAYS, (validTo - Date.parse(tls.validFrom)) / DAY_MS / 6);
  if (left <= 0 || left > thresholdDays * DAY_MS) return null;
  const key = certificateKey(tls);
  if (check.warned.includes(key)) return null;
  const daysLeft = Math.floor(left / DAY_MS);
  return {
    key,
    daysLeft,
    thresholdDays,
    validTo: tls.validTo,
    subject: tls.subject,
    issuer: tls.issuer,
    message: `Certificate expires in ${inDays(daysLeft)}: ${tls.subject}, valid until ${
      tls.validTo.slice(0, 16).replace("T", " ")
    } UTC, issued by ${tls.issuer}`,
    warned: [key, ...check.warned].slice(0, MAX_WARNED_CERTIFICATES),
  };
}

function inDays(days: number): string {
  return days === 0 ? "less than a day" : days === 1 ? "1 day" : `${days} days`;
}
