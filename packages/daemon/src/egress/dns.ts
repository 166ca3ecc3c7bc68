import { promises as nodeDns } from "node:dns";
import net from "node:net";
import * as packet from "dns-packet";
import { RateLimiter } from "../guest/rate-limit.ts";
import { type DnsListener, serveTcp, serveUdp } from "./dns-listen.ts";
import { type DomainRule, decide } from "./policy.ts";

/** Resolves a name on the host to its final addresses (CNAMEs already followed). */
export type HostResolver = (name: string, family: 4 | 6) => Promise<string[]>;

export type DnsRcode = "NOERROR" | "FORMERR" | "SERVFAIL" | "NXDOMAIN" | "NOTIMP" | "REFUSED";

export interface DnsQueryEvent {
  sandbox: string;
  /** As asked, with anything outside printable ASCII shown as `?`. */
  name: string;
  type: string;
  allowed: boolean;
  rcode: DnsRcode;
}

/** Work one sandbox's resolver may do: a token bucket over all queries, and a cap on those open. */
export interface DnsLimits {
  perSecond: number;
  burst: number;
  maxInFlight: number;
}

export const DEFAULT_DNS_LIMITS: DnsLimits = { perSecond: 50, burst: 100, maxInFlight: 8 };

/** Short, so a name taken off the allow-list stops being used from caches within seconds. */
export const DEFAULT_DNS_TTL_SECONDS = 5;

export type { DnsListener };

export interface EgressDnsOptions {
  /** The sandbox this resolver serves: one EgressDns per sandbox. */
  sandbox: string;
  /** The parsed `allowed_domains`, read at every query so a change applies to the next one. */
  allowed: () => readonly DomainRule[];
  resolve?: HostResolver;
  onQuery?: (event: DnsQueryEvent) => void;
  ttlSeconds?: number;
  limits?: Partial<DnsLimits>;
}

const RCODE: Record<DnsRcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};
const QR_RESPONSE = 0x8000;
const OPCODE_QUERY = 0;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/i;
const MAX_ADDRESSES = 16;
const UDP_MIN = 512;
const UDP_MAX = 1232;

/**
 * Whether `name` may be looked up: some rule of the proxy's policy matches it, on that rule's own
 * port (DNS has no port). The matching is policy.ts's, so the resolver and the proxy agree.
 */
export function dnsNameAllowed(name: string, rules: readonly DomainRule[]): boolean {
  return rules.some((rule) => decide(name, rule.port, [rule]).allowed);
}

/** The host's resolver over c-ares: final addresses only, and no libuv thread held per query. */
export function hostResolver(
  resolver = new nodeDns.Resolver({ timeout: 2000, tries: 2 }),
): HostResolver {
  return (name, family) => (family === 4 ? resolver.resolve4(name) : resolver.resolve6(name));
}

/**
 * A sandbox's DNS server under `network.policy: deny`. Names on the allow-list get their A and
 * AAAA addresses from the host resolver, other types of those names an empty answer, ANY is
 * refused, and every other name is NXDOMAIN without the host resolver seeing it. Nothing is
 * forwarded, so a query can carry data out only as far as a listed name's own servers.
 */
export class EgressDns {
  readonly #limiter: RateLimiter;
  readonly #resolve: HostResolver;
  readonly #ttl: number;

  constructor(private readonly options: EgressDnsOptions) {
    const limits = { ...DEFAULT_DNS_LIMITS, ...options.limits };
    this.#limiter = new RateLimiter(limits.perSecond, limits.burst, limits.maxInFlight);
    this.#resolve = options.resolve ?? hostResolver();
    this.#ttl = options.ttlSeconds ?? DEFAULT_DNS_TTL_SECONDS;
  }

  /** The reply to one DNS message, or undefined when it deserves none (too short, a response). */
  async answer(message: Buffer, transport: "udp" | "tcp"): Promise<Buffer | undefined> {
    if (message.length < 12) return undefined;
    const header = { id: message.readUInt16BE(0), flags: message.readUInt16BE(2) };
    if ((header.flags & QR_RESPONSE) !== 0) return undefined;
    try {
      return await this.#answer(message, header, transport);
    } catch {
      return reply(header, "SERVFAIL");
    }
  }

  async #answer(
    message: Buffer,
    header: { id: number; flags: number },
    transport: "udp" | "tcp",
  ): Promise<Buffer> {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(message);
    } catch {
      return reply(header, "FORMERR");
    }
    if (((header.flags >> 11) & 0xf) !== OPCODE_QUERY) return reply(query, "NOTIMP");
    const question = query.questions?.length === 1 ? query.questions[0] : undefined;
    if (!question) return reply(query, "FORMERR");
    const wellFormed = HOST_NAME.test(question.name) && question.class === "IN";
    const allowed = wellFormed && dnsNameAllowed(question.name, this.options.allowed());
    const release = this.#limiter.acquire();
    try {
      const { rcode, answers } = release
        ? await this.#decide(question, wellFormed, allowed)
        : { rcode: "REFUSED" as const, answers: [] };
      this.#report(question, allowed, rcode);
      return reply(query, rcode, wellFormed ? [question] : [], answers, transport);
    } finally {
      release?.();
    }
  }

  async #decide(
    question: packet.Question,
    wellFormed: boolean,
    allowed: boolean,
  ): Promise<{ rcode: DnsRcode; answers: packet.Answer[] }> {
    if (!wellFormed || (question.type as string) === "ANY")
      return { rcode: "REFUSED", answers: [] };
    if (!allowed) return { rcode: "NXDOMAIN", answers: [] };
    if (question.type !== "A" && question.type !== "AAAA") return { rcode: "NOERROR", answers: [] };
    return this.#addresses(question.name, question.type);
  }

  async #addresses(
    name: string,
    type: "A" | "AAAA",
  ): Promise<{ rcode: DnsRcode; answers: packet.Answer[] }> {
    const family = type === "A" ? 4 : 6;
    try {
      const found = await this.#resolve(name.toLowerCase(), family);
      const answers = found
        .filter((address) => net.isIP(address) === family)
        .slice(0, MAX_ADDRESSES)
        .map((data): packet.Answer => ({ type, name, ttl: this.#ttl, data }));
      return { rcode: "NOERROR", answers };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === nodeDns.NOTFOUND) return { rcode: "NXDOMAIN", answers: [] };
      if (code === nodeDns.NODATA) return { rcode: "NOERROR", answers: [] };
      return { rcode: "SERVFAIL", answers: [] };
    }
  }

  #report(question: packet.Question, allowed: boolean, rcode: DnsRcode): void {
    const name = question.name.replace(/[^\x21-\x7e]/g, "?");
    try {
      this.options.onQuery?.({
        sandbox: this.options.sandbox,
        name,
        type: question.type,
        allowed,
        rcode,
      });
    } catch {
      // A failing logger must not turn into a failing resolver.
    }
  }

  /** Serves DNS over UDP on `host:port` (port 0 picks one). */
  listenUdp(port: number, host: string): Promise<DnsListener> {
    return serveUdp((message) => this.answer(message, "udp"), port, host);
  }

  /** Serves DNS over TCP on `host:port`: each message behind a 2-byte length, answered in turn. */
  listenTcp(port: number, host: string): Promise<DnsListener> {
    return serveTcp((message) => this.answer(message, "tcp"), port, host);
  }
}

/** The response to `query`: its id and RD bit, recursion available; truncated when UDP is short. */
function reply(
  query: { id?: number; flags?: number; additionals?: packet.Answer[] },
  rcode: DnsRcode,
  questions: packet.Question[] = [],
  answers: packet.Answer[] = [],
  transport: "udp" | "tcp" = "udp",
): Buffer {
  const opt = query.additionals?.find((a): a is packet.OptAnswer => a.type === "OPT");
  const flags =
    ((query.flags ?? 0) & packet.RECURSION_DESIRED) | packet.RECURSION_AVAILABLE | RCODE[rcode];
  const additionals: packet.Answer[] = opt
    ? [
        {
          type: "OPT",
          name: ".",
          udpPayloadSize: UDP_MAX,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ]
    : [];
  const out = {
    type: "response" as const,
    id: query.id ?? 0,
    flags,
    questions,
    answers,
    additionals,
  };
  const encoded = packet.encode(out);
  const limit = Math.min(Math.max(opt?.udpPayloadSize ?? UDP_MIN, UDP_MIN), UDP_MAX);
  if (transport === "tcp" || encoded.length <= limit) return encoded;
  return packet.encode({ ...out, flags: flags | packet.TRUNCATED_RESPONSE, answers: [] });
}
