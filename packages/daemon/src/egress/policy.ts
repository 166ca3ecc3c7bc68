import { isIP } from "node:net";

/**
 * One `sandbox.network.allowed_domains` entry, parsed. As in workmux, `github.com` is that
 * exact name and `*.npmjs.org` any name below `npmjs.org` (at any depth) but not `npmjs.org`
 * itself. The port is 443 unless the entry names one (`example.com:8080`, a wm extension).
 */
export interface DomainRule {
  /** The entry as written, for messages. */
  readonly entry: string;
  /** Lower-case name, without the `*.` of a wildcard. */
  readonly name: string;
  readonly wildcard: boolean;
  readonly port: number;
  /** workmux's per-entry opt-in to private and CGNAT addresses for this exact host. */
  readonly privateRanges: boolean;
}

/** An entry as the config schema hands it over, or as a user writes it. */
export type AllowedDomainEntry = string | { host: string; allow_private_ips?: boolean };

export type Decision =
  | { readonly allowed: true; readonly rule: DomainRule }
  | { readonly allowed: false; readonly reason: string };

export const DEFAULT_PORT = 443;

function unbracket(text: string): string {
  return text.replace(/^\[(.*)\]$/, "$1");
}

function splitPort(entry: string): { name: string; port: string | undefined } {
  const match = /^(.*):(\d*)$/.exec(entry);
  return match ? { name: match[1] ?? "", port: match[2] } : { name: entry, port: undefined };
}

/** workmux's `validate_domain`, plus a check that the entry is a host name, and wm's `:port`. */
export function domainProblem(entry: string): string | undefined {
  if (entry.length === 0) return "empty domain";
  const { name, port } = splitPort(entry);
  if ([entry, unbracket(entry), name, unbracket(name)].some((text) => isIP(text) !== 0)) {
    return `IP literals are not allowed, only domain names: ${entry}`;
  }
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && +port >= 1 && +port <= 65535)) {
    return `port must be a number from 1 to 65535: ${entry}`;
  }
  if (name.endsWith(".")) return `trailing dot not allowed: ${entry}`;
  if (name.includes("*") && !/^\*\.[^*]+$/.test(name)) {
    return `wildcards must have the form *.suffix: ${entry}`;
  }
  if (!/^(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) {
    return `not a domain name (only name, *.suffix or name:port; no scheme or path): ${entry}`;
  }
  return undefined;
}

/** Parses one entry; throws an error naming the entry when it is not valid. */
export function parseDomainRule(entry: AllowedDomainEntry): DomainRule {
  const text = typeof entry === "string" ? entry : entry.host;
  const privateRanges = typeof entry === "string" ? false : entry.allow_private_ips === true;
  const problem = domainProblem(text);
  if (problem) throw new Error(`sandbox.network.allowed_domains: ${problem}`);
  const { name, port } = splitPort(text);
  const wildcard = name.startsWith("*.");
  if (wildcard && privateRanges) {
    throw new Error(
      `sandbox.network.allowed_domains: allow_private_ips needs an exact host, not a wildcard: ${text}`,
    );
  }
  return {
    entry: text,
    name: (wildcard ? name.slice(2) : name).toLowerCase(),
    wildcard,
    port: port === undefined ? DEFAULT_PORT : Number(port),
    privateRanges,
  };
}

export function parseDomainRules(entries: ReadonlyArray<AllowedDomainEntry>): DomainRule[] {
  return entries.map(parseDomainRule);
}

/** The name a request asks for, compared case-insensitively and without a final dot. */
export function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, "");
}

function nameMatches(rule: DomainRule, host: string): boolean {
  return rule.wildcard ? host.endsWith(`.${rule.name}`) : host === rule.name;
}

/** Whether a sandbox may open a connection to `host:port` under `rules`. */
export function decide(host: string, port: number, rules: ReadonlyArray<DomainRule>): Decision {
  const name = normaliseHost(unbracket(host));
  // A numeric last label is how resolvers spell IPv4 in other forms (127.1, 0x7f000001).
  if (isIP(name) !== 0 || /(^|\.)(0x[0-9a-f]*|\d+)$/.test(name)) {
    return {
      allowed: false,
      reason: `${host} is an IP address; only names listed in allowed_domains are reachable`,
    };
  }
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) {
    return { allowed: false, reason: `not a valid host name: ${JSON.stringify(host)}` };
  }
  const named = rules.filter((rule) => nameMatches(rule, name));
  const onPort = named.filter((r) => r.port === port);
  const rule = onPort.find((r) => r.privateRanges) ?? onPort[0];
  if (rule) return { allowed: true, rule };
  if (named.length === 0) return { allowed: false, reason: `${name} is not in allowed_domains` };
  const ports = [...new Set(named.map((r) => r.port))].sort((a, b) => a - b).join(", ");
  return {
    allowed: false,
    reason: `${name} is allowed only on port ${ports}, not ${port}`,
  };
}
