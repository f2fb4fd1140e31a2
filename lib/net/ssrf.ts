/**
 * SSRF guard: decides whether an outbound request to a user-supplied URL may go out.
 *
 * Private, loopback, link-local, metadata and otherwise non-public addresses are refused unless
 * the caller explicitly allows private targets. A host name is resolved once and refused when ANY
 * of its addresses is blocked, so a mixed public + private answer cannot slip through.
 */
import { abortable } from "./abortable.ts";

/** Resolves a host name to its IPv4 and IPv6 addresses. */
export interface Resolver {
  (hostname: string, options?: { signal?: AbortSignal }): Promise<string[]>;
}

/** The URL to connect to and, when it was vetted, the address it must be connected to. */
export interface VettedTarget {
  url: URL;
  /** A vetted IP address of `url`'s host, or null when nothing was checked (allowPrivate). */
  address: string | null;
}

export interface VetOptions {
  allowPrivate: boolean;
  resolve?: Resolver;
  signal?: AbortSignal;
  /** Replaces {@linkcode isBlockedAddress}; meant for tests that need a loopback target. */
  isBlocked?: (ip: string) => string | null;
}

/** The target is refused: bad scheme, local host name or a non-public address. */
export class BlockedAddressError extends Error {
  /** The address that was refused, or null when the scheme or host name was. */
  readonly address: string | null;
  readonly reason: string;

  constructor(url: URL, reason: string, address: string | null, message?: string) {
    super(
      message ??
        `Cannot connect to "${url.href}": address ${address ?? url.hostname} is ${reason}`,
    );
    this.name = "BlockedAddressError";
    this.address = address;
    this.reason = reason;
  }
}

/** The host name did not resolve to any address. */
export class DnsError extends Error {
  readonly hostname: string;

  constructor(hostname: string, detail: string, options?: ErrorOptions) {
    super(`Cannot resolve "${hostname}": ${detail}`, options);
    this.name = "DnsError";
    this.hostname = hostname;
  }
}

// ---------------------------------------------------------------------------------------------
// Address classification

/** Parses a strict dotted-quad IPv4 address into four octets, or returns null. */
function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    octets.push(value);
  }
  return octets;
}

/** Parses an IPv6 address (compressed, with an embedded dotted quad) into 16 bytes, or null. */
function parseIPv6(text: string): number[] | null {
  if (!/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;

  function parseGroups(part: string, allowQuad: boolean): number[] | null {
    if (part === "") return [];
    const pieces = part.split(":");
    const bytes: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (piece.includes(".")) {
        // A dotted quad may only be the last 32 bits of the whole address.
        if (!allowQuad || i !== pieces.length - 1) return null;
        const quad = parseIPv4(piece);
        if (!quad) return null;
        bytes.push(...quad);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(piece)) return null;
        const value = parseInt(piece, 16);
        bytes.push(value >> 8, value & 0xff);
      }
    }
    return bytes;
  }

  if (halves.length === 1) {
    const bytes = parseGroups(text, true);
    return bytes && bytes.length === 16 ? bytes : null;
  }
  const head = parseGroups(halves[0], false);
  const tail = parseGroups(halves[1], true);
  if (!head || !tail) return null;
  // "::" stands for at least one zero group.
  if (head.length + tail.length > 14) return null;
  return [...head, ...new Array(16 - head.length - tail.length).fill(0), ...tail];
}

function inV4(octets: number[], base: [number, number, number, number], bits: number): boolean {
  const value = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const net = ((base[0] << 24) | (base[1] << 16) | (base[2] << 8) | base[3]) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((value & mask) >>> 0) === ((net & mask) >>> 0);
}

function classifyV4(o: number[]): string | null {
  if (inV4(o, [0, 0, 0, 0], 8)) return "unspecified";
  if (inV4(o, [10, 0, 0, 0], 8)) return "private";
  if (inV4(o, [100, 64, 0, 0], 10)) return "cgnat";
  if (inV4(o, [127, 0, 0, 0], 8)) return "loopback";
  // AWS, GCP, Azure, OpenStack and DigitalOcean all serve instance metadata here.
  if (inV4(o, [169, 254, 169, 254], 32)) return "metadata";
  if (inV4(o, [169, 254, 0, 0], 16)) return "link-local";
  if (inV4(o, [172, 16, 0, 0], 12)) return "private";
  if (inV4(o, [192, 0, 0, 0], 24)) return "reserved";
  if (inV4(o, [192, 0, 2, 0], 24)) return "documentation";
  // The deprecated 6to4 relay anycast range (RFC 7526).
  if (inV4(o, [192, 88, 99, 0], 24)) return "reserved";
  if (inV4(o, [192, 168, 0, 0], 16)) return "private";
  if (inV4(o, [198, 18, 0, 0], 15)) return "benchmark";
  if (inV4(o, [198, 51, 100, 0], 24)) return "documentation";
  if (inV4(o, [203, 0, 113, 0], 24)) return "documentation";
  if (inV4(o, [224, 0, 0, 0], 4)) return "multicast";
  if (inV4(o, [255, 255, 255, 255], 32)) return "broadcast";
  if (inV4(o, [240, 0, 0, 0], 4)) return "reserved";
  return null;
}

function startsWith(bytes: number[], prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const i = bit / 8;
    const width = Math.min(8, bits - bit);
    const mask = (0xff << (8 - width)) & 0xff;
    if ((bytes[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

function allZero(bytes: number[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Judges an IPv4 address embedded in an IPv6 one; the reason names the embedding. */
function embedded(kind: string, v4: number[]): string | null {
  const reason = classifyV4(v4);
  return reason === null ? null : `${kind} ${reason}`;
}

function classifyV6(b: number[]): string | null {
  if (allZero(b, 0, 16)) return "unspecified";
  if (allZero(b, 0, 15) && b[15] === 1) return "loopback";
  // ::ffff:a.b.c.d reaches the IPv4 host itself, so only the IPv4 address matters.
  if (allZero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) {
    return embedded("ipv4-mapped", b.slice(12));
  }
  // ::a.b.c.d (deprecated, RFC 4291) has no legitimate public use left.
  if (allZero(b, 0, 12)) return embedded("ipv4-compatible", b.slice(12)) ?? "reserved";
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): the gateway connects to the IPv4 address.
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) {
    return embedded("nat64", b.slice(12));
  }
  // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215). DNS64 may synthesise these for IPv4-only
  // sites, so judge the IPv4 address in either the /96 or the /48 layout; refuse anything else.
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) {
    if (allZero(b, 6, 12)) return embedded("nat64", b.slice(12));
    if (b[8] === 0 && allZero(b, 11, 16)) return embedded("nat64", [b[6], b[7], b[9], b[10]]);
    return "nat64";
  }
  // AWS instance metadata over IPv6 (inside fc00::/7, named for a clearer message).
  if (
    startsWith(b, [0xfd, 0x00, 0x0e, 0xc2], 32) && allZero(b, 4, 14) && b[14] === 0x02 &&
    b[15] === 0x54
  ) {
    return "metadata";
  }
  if (startsWith(b, [0xfc], 7)) return "unique-local";
  if (startsWith(b, [0xfe, 0x80], 10)) return "link-local";
  if (startsWith(b, [0xfe, 0xc0], 10)) return "site-local";
  if (startsWith(b, [0xff], 8)) return "multicast";
  // Only 2000::/3 is allocated as global unicast; everything else is reserved or special.
  if (!startsWith(b, [0x20], 3)) return "reserved";
  // Teredo hides the real IPv4 endpoints (obfuscated); a tunnel is never a monitoring target.
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00], 32)) return "teredo";
  if (startsWith(b, [0x20, 0x01, 0x00, 0x02, 0x00, 0x00], 48)) return "benchmark";
  // ORCHID and ORCHIDv2 (RFC 4843, RFC 7343) are identifiers, not routable addresses.
  if (startsWith(b, [0x20, 0x01, 0x00, 0x10], 28)) return "reserved";
  if (startsWith(b, [0x20, 0x01, 0x00, 0x20], 28)) return "reserved";
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return "documentation";
  if (startsWith(b, [0x3f, 0xff], 20)) return "documentation";
  // 6to4 2002:AABB:CCDD::/48 is routed to the IPv4 address AA.BB.CC.DD.
  if (startsWith(b, [0x20, 0x02], 16)) return embedded("6to4", b.slice(2, 6));
  return null;
}

/**
 * Returns why connecting to `ip` is refused ("loopback", "private", "metadata", …) or null when
 * the address is public. Accepts IPv4 dotted quads and IPv6 (optionally in brackets or with a
 * zone id). Anything that does not parse as an IP address is refused as "invalid".
 */
export function isBlockedAddress(ip: string): string | null {
  let text = ip.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const v4 = parseIPv4(text);
  if (v4) return classifyV4(v4);

  const zone = text.indexOf("%");
  const bare = zone === -1 ? text : text.slice(0, zone);
  const v6 = parseIPv6(bare);
  if (!v6) return "invalid";
  const reason = classifyV6(v6);
  // A zone id only makes sense for link-scoped addresses, so a zoned address is never public.
  if (zone !== -1) return reason ?? "scoped";
  return reason;
}

// ---------------------------------------------------------------------------------------------
// Host names

/** Returns why a host name is refused before any lookup, or null. */
function blockedHostname(hostname: string): string | null {
  const name = hostname.toLowerCase().replace(/\.+$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return "a local name";
  if (name === "metadata" || name === "metadata.google.internal") return "a metadata service";
  // GCP internal DNS (*.internal), mDNS (*.local) and home networks (RFC 8375).
  if (name.endsWith(".internal") || name === "internal") return "an internal name";
  if (name.endsWith(".local") || name.endsWith(".home.arpa")) return "a local name";
  return null;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(os error \d+\)$/, "") || "lookup failed";
}

/** Resolves A and AAAA records in parallel with `Deno.resolveDns`. */
export const defaultResolver: Resolver = async (hostname, options) => {
  const signal = options?.signal;
  const [a, aaaa] = await Promise.allSettled([
    Deno.resolveDns(hostname, "A", { signal }),
    Deno.resolveDns(hostname, "AAAA", { signal }),
  ]);
  if (signal?.aborted) throw signal.reason;
  const addresses: string[] = [];
  for (const result of [a, aaaa]) {
    if (result.status === "fulfilled") addresses.push(...result.value);
    // A name may have records of one family only; any other failure is a real DNS error.
    else if (!isNotFound(result.reason)) {
      throw new DnsError(hostname, describe(result.reason), { cause: result.reason });
    }
  }
  if (addresses.length === 0) {
    const reason = a.status === "rejected" ? a.reason : null;
    throw new DnsError(hostname, reason ? describe(reason) : "no addresses", { cause: reason });
  }
  return addresses;
};

/** Returns the IP address of an IP-literal host (brackets stripped), or null for a name. */
export function ipLiteral(hostname: string): string | null {
  if (hostname.startsWith("[") && hostname.endsWith("]")) return hostname.slice(1, -1);
  return parseIPv4(hostname) ? hostname : null;
}

/**
 * The checks that need no DNS: scheme, IP literals and local host names. Used on its own to
 * refuse a bad URL when a job is saved; returns the literal address when the host is one.
 */
export function vetUrlWithoutDns(
  url: URL,
  options: Pick<VetOptions, "allowPrivate" | "isBlocked">,
): string | null {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BlockedAddressError(
      url,
      "scheme",
      null,
      `Cannot connect to "${url.href}": scheme "${url.protocol}" is not allowed, use http: or https:`,
    );
  }
  const literal = ipLiteral(url.hostname);
  if (options.allowPrivate) return literal;
  const isBlocked = options.isBlocked ?? isBlockedAddress;
  if (literal !== null) {
    const reason = isBlocked(literal);
    if (reason !== null) throw new BlockedAddressError(url, reason, literal);
    return literal;
  }
  const hostReason = blockedHostname(url.hostname);
  if (hostReason !== null) {
    throw new BlockedAddressError(
      url,
      hostReason,
      null,
      `Cannot connect to "${url.href}": host ${url.hostname} is ${hostReason}`,
    );
  }
  return null;
}

/**
 * Checks that `url` may be fetched. With `allowPrivate` only the scheme is checked; otherwise
 * the host must be public: an IP literal is judged as is, a name is resolved and refused when
 * any of its addresses is blocked.
 *
 * @throws {BlockedAddressError} the scheme, host name or an address is refused
 * @throws {DnsError} the name does not resolve
 */
export async function vetUrl(url: URL, options: VetOptions): Promise<VettedTarget> {
  if (options.allowPrivate) {
    vetUrlWithoutDns(url, options);
    return { url, address: null };
  }
  const literal = vetUrlWithoutDns(url, options);
  if (literal !== null) return { url, address: literal };
  const isBlocked = options.isBlocked ?? isBlockedAddress;

  const resolve = options.resolve ?? defaultResolver;
  let addresses: string[];
  try {
    addresses = await abortable(resolve(url.hostname, { signal: options.signal }), options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof DnsError) throw error;
    throw new DnsError(url.hostname, describe(error), { cause: error });
  }
  if (addresses.length === 0) throw new DnsError(url.hostname, "no addresses");
  for (const address of addresses) {
    const reason = isBlocked(address);
    if (reason !== null) throw new BlockedAddressError(url, reason, address);
  }
  return { url, address: addresses[0] };
}
