/**
 * The certificate an https target presents, read by a TLS handshake of its own beside a job's
 * run (lib/net/outbound.ts starts it right after the SSRF guard vetted the address).
 *
 * Why a second handshake: the run's own connection (lib/net/http1_client.ts, `Deno.startTls`)
 * tells nothing of the peer's certificate in Deno 2.9 (`TlsConn.handshake()` answers
 * `{ alpnProtocol }` only) and `fetch` tells nothing either. `node:tls` does
 * (`getPeerCertificate()`) and can be pinned the same way: the socket goes to the vetted
 * address, `servername` (SNI) is the URL's host name, so no name is resolved again.
 *
 * The read does not verify (`rejectUnauthorized: false`): the run's own connection verifies and
 * fails the run for a bad certificate, as before. Reading what was presented even then also
 * shows why such a run failed (expired, issued for another name).
 *
 * Cost, measured (bench/certificate_cost.ts; README, "TLS certificates"): a read is a
 * connection and ~1 ms of CPU, ~1.3 ms of wall time beside a run on a kept-alive connection
 * and hidden beside one that opens its own. So a read is kept per (host name, address, port)
 * for an hour (a renewed certificate shows within the hour; expiry warnings count days), a
 * failed one for five minutes, and reads of one target at the same time share one handshake;
 * from memory it costs ~1 µs. A run waits for the read at most until its own deadline, and
 * its latency (`durationMs`) does not include that wait.
 */
import {
  type Certificate,
  connect,
  type DetailedPeerCertificate,
  type PeerCertificate,
} from "node:tls";
import { BoundedCache } from "../bounded_cache.ts";
import type { RunTls } from "../store/types.ts";

/** What a run records of the certificate, less `daysLeft` (that depends on the run's time). */
export type ServerCertificate = Omit<RunTls, "daysLeft">;

/** Where to read from: the URL's host name (for SNI), the vetted address, the port. */
export interface CertificateTarget {
  /** The URL's host name as `URL.hostname` gives it (IPv6 literals in brackets). */
  hostname: string;
  /** The address the guard vetted; null (private networks allowed) connects to `hostname`. */
  address: string | null;
  port: number;
}

export interface CertificateReaderOptions {
  /** How long a certificate read is used again; default one hour. */
  ttlMs?: number;
  /** How long a failed read is used again (no certificate); default five minutes. */
  failureTtlMs?: number;
  /** Targets remembered; default 10,000. */
  limit?: number;
  /** Monotonic milliseconds for the ages above; `performance.now` unless a test steps it. */
  now?: () => number;
}

const HOUR_MS = 3_600_000;
const FAILURE_TTL_MS = 300_000;
/** Subject and issuer are display text; a certificate with huge names is cut. */
const MAX_NAME_LENGTH = 500;

interface Entry {
  at: number;
  /** The read, settled or not; `value` once it has. */
  certificate: Promise<ServerCertificate | null>;
  settled: boolean;
  value: ServerCertificate | null;
}

/** Reads and remembers targets' certificates; one per process (the runner's). */
export class CertificateReader {
  readonly #cache: BoundedCache<string, Entry>;
  readonly #ttlMs: number;
  readonly #failureTtlMs: number;
  readonly #now: () => number;

  constructor(options: CertificateReaderOptions = {}) {
    this.#cache = new BoundedCache(options.limit);
    this.#ttlMs = options.ttlMs ?? HOUR_MS;
    this.#failureTtlMs = options.failureTtlMs ?? FAILURE_TTL_MS;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * The target's certificate, from memory or a new handshake; null when it cannot be read
   * within `timeoutMs` (the caller's remaining deadline). Never rejects. Answers at once (no
   * promise, no timer) from memory, as for nearly every run.
   */
  read(
    target: CertificateTarget,
    timeoutMs: number,
  ): ServerCertificate | null | Promise<ServerCertificate | null> {
    const key = `${target.hostname} ${target.address ?? ""} ${target.port}`;
    const now = this.#now();
    let entry = this.#cache.get(key);
    const ttl = entry?.settled && entry.value === null ? this.#failureTtlMs : this.#ttlMs;
    if (!entry || now - entry.at >= ttl) {
      const fresh: Entry = {
        at: now,
        settled: false,
        value: null,
        certificate: readCertificate(target, timeoutMs).catch(() => null).then((value) => {
          fresh.settled = true;
          fresh.value = value;
          return value;
        }),
      };
      entry = this.#cache.set(key, fresh);
    }
    return entry.settled ? entry.value : withinMs(entry.certificate, timeoutMs);
  }
}

/** `promise`, or null once `ms` have passed. */
function withinMs<T>(promise: Promise<T | null>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * One handshake to `target`, the certificate it presented, and the connection closed.
 *
 * @throws the connection's error, or a timeout after `timeoutMs`
 */
export function readCertificate(
  target: CertificateTarget,
  timeoutMs: number,
): Promise<ServerCertificate> {
  const hostname = bare(target.hostname);
  // SNI carries names only: an address in the URL is sent without one.
  const servername = isAddress(hostname) ? undefined : hostname;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: target.address ?? hostname,
      port: target.port,
      servername,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Cannot read the certificate of ${hostname}: timed out`));
    }, Math.max(1, timeoutMs));
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      try {
        resolve(describe(socket.getPeerCertificate()));
      } catch (error) {
        reject(error);
      } finally {
        socket.destroy();
      }
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

function describe(peer: DetailedPeerCertificate | PeerCertificate): ServerCertificate {
  const validFrom = Date.parse(peer.valid_from);
  const validTo = Date.parse(peer.valid_to);
  if (!peer.fingerprint256 || Number.isNaN(validFrom) || Number.isNaN(validTo)) {
    throw new Error("Cannot read the certificate: the server presented none");
  }
  return {
    subject: distinguishedName(peer.subject),
    issuer: distinguishedName(peer.issuer),
    validFrom: new Date(validFrom).toISOString(),
    validTo: new Date(validTo).toISOString(),
    serialNumber: peer.serialNumber,
    fingerprint256: peer.fingerprint256,
  };
}

/** `C=US, O=Let's Encrypt, CN=R11`: the attributes in the order the certificate has them. */
function distinguishedName(name: Certificate | undefined): string {
  const text = Object.entries(name ?? {} as Record<string, string | string[] | undefined>)
    .filter(([, value]) => value !== undefined)
    .map(([type, value]) => `${type}=${Array.isArray(value) ? value.join("+") : value}`)
    .join(", ");
  return text.length > MAX_NAME_LENGTH ? `${text.slice(0, MAX_NAME_LENGTH - 1)}…` : text;
}

function bare(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
}

function isAddress(hostname: string): boolean {
  return hostname.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
}
