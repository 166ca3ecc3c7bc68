import { BlockList, isIP } from "node:net";

/**
 * Which resolved addresses the egress proxy may connect to. Everything that is not a public
 * unicast address is refused unless the user named it.
 */
export interface AddressAllowance {
  /** `sandbox.network.allow_private_ips`: any address in these ranges is allowed, whatever its class. */
  readonly ranges: BlockList;
  /**
   * workmux's per-entry `allow_private_ips: true`: private (RFC 1918, ULA) and CGNAT addresses
   * for that one host. Never loopback, link-local, metadata, multicast or unspecified.
   */
  readonly privateRanges: boolean;
}

type AddressClass =
  | "cloud metadata"
  | "unspecified"
  | "loopback"
  | "link-local"
  | "multicast"
  | "reserved"
  | "private"
  | "carrier-grade NAT";

/** First match names the class, so the metadata addresses win over the ranges around them. */
const CLASSES: ReadonlyArray<readonly [AddressClass, ReadonlyArray<string>]> = [
  ["cloud metadata", ["169.254.169.254/32", "fd00:ec2::254/128"]],
  ["unspecified", ["0.0.0.0/8", "::/128"]],
  ["loopback", ["127.0.0.0/8", "::1/128"]],
  ["link-local", ["169.254.0.0/16", "fe80::/10"]],
  ["multicast", ["224.0.0.0/4", "ff00::/8"]],
  // 240/4 holds the broadcast address; ::/96 the deprecated IPv4-compatible form.
  ["reserved", ["240.0.0.0/4", "192.0.0.0/24", "198.18.0.0/15", "::/96"]],
  ["private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10"]],
  ["carrier-grade NAT", ["100.64.0.0/10"]],
];

const PRIVATE_OPT_IN: ReadonlySet<AddressClass> = new Set(["private", "carrier-grade NAT"]);

const classLists = CLASSES.map(([name, cidrs]) => [name, blockListOf(cidrs)] as const);

function blockListOf(cidrs: ReadonlyArray<string>): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) addCidr(list, cidr);
  return list;
}

/** Why `cidr` is not an address range, or undefined. A bare address is a range of one. */
export function cidrProblem(cidr: string): string | undefined {
  const [address = "", prefix, extra] = cidr.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    return `not an IP address range (like 10.0.0.0/8 or fd00::/8): ${cidr}`;
  }
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
    return `prefix length must be 0-${bits}: ${cidr}`;
  }
  return undefined;
}

function addCidr(list: BlockList, cidr: string): void {
  const problem = cidrProblem(cidr);
  if (problem) throw new Error(problem);
  const [address = "", prefix] = cidr.split("/");
  const type = isIP(address) === 4 ? "ipv4" : "ipv6";
  list.addSubnet(
    address,
    prefix === undefined ? (type === "ipv4" ? 32 : 128) : Number(prefix),
    type,
  );
}

/** Builds the allowance from `sandbox.network.allow_private_ips`; throws naming a bad entry. */
export function allowanceFrom(
  cidrs: ReadonlyArray<string>,
  privateRanges = false,
): AddressAllowance {
  const ranges = new BlockList();
  for (const cidr of cidrs) {
    try {
      addCidr(ranges, cidr);
    } catch (err) {
      throw new Error(`sandbox.network.allow_private_ips: ${(err as Error).message}`);
    }
  }
  return { ranges, privateRanges };
}

/** The eight 16-bit groups of a valid IPv6 address (zone already removed). */
function hextets(ip: string): number[] {
  let text = ip;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const front = head === "" ? [] : head.split(":");
  const back = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? 0 : 8 - front.length - back.length;
  return [...front, ...Array<string>(fill).fill("0"), ...back].map((g) => Number.parseInt(g, 16));
}

/**
 * The address to classify: the zone removed, and an IPv6 address that stands for an IPv4 one
 * (IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`) replaced by that IPv4 address.
 */
function normalise(ip: string): { address: string; type: "ipv4" | "ipv6" } {
  const address = ip.replace(/%.*$/, "");
  if (isIP(address) === 4) return { address, type: "ipv4" };
  const g = hextets(address);
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !nat64) return { address, type: "ipv6" };
  const [high = 0, low = 0] = g.slice(6);
  return { address: [high >> 8, high & 255, low >> 8, low & 255].join("."), type: "ipv4" };
}

/** The class of a non-public address; undefined for a public unicast one or a non-address. */
export function addressClass(ip: string): AddressClass | undefined {
  if (isIP(ip) === 0) return undefined;
  const { address, type } = normalise(ip);
  return classLists.find(([, list]) => list.check(address, type))?.[0];
}

/**
 * Why the proxy must not connect to `ip`, or undefined when it may. Refused: private, loopback,
 * link-local, multicast, unspecified, reserved, CGNAT and cloud metadata addresses (also as
 * IPv4-mapped or NAT64 IPv6), unless `allow` names them.
 */
export function addressRefusal(ip: string, allow: AddressAllowance): string | undefined {
  if (isIP(ip) === 0) return `not an IP address: ${ip}`;
  const { address, type } = normalise(ip);
  if (allow.ranges.check(address, type)) return undefined;
  const kind = addressClass(ip);
  if (kind === undefined) return undefined;
  if (allow.privateRanges && PRIVATE_OPT_IN.has(kind)) return undefined;
  return `${ip} is a ${kind} address; name a range containing it in sandbox.network.allow_private_ips to allow it`;
}
