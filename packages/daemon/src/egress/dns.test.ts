import dgram from "node:dgram";
import { Resolver } from "node:dns/promises";
import net from "node:net";
import * as packet from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DnsLimits,
  type DnsListener,
  type DnsQueryEvent,
  dnsNameAllowed,
  EgressDns,
  type HostResolver,
  hostResolver,
} from "./dns.ts";
import { parseDomainRules } from "./policy.ts";

/** What the host would answer: test names only, all on loopback. */
const HOST: Record<string, { 4?: string[]; 6?: string[] }> = {
  "api.allowed.test": { 4: ["127.0.0.2"], 6: ["::1"] },
  "x.wild.test": { 4: ["127.0.0.3"] },
  "a.b.wild.test": { 4: ["127.0.0.4"] },
  "wild.test": { 4: ["127.0.0.5"] },
  "late.test": { 4: ["127.0.0.6"] },
  "base32data.attacker.test": { 4: ["127.0.0.7"] },
};

interface Served {
  dns: EgressDns;
  port: number;
  /** Replaces the allow-list with a new one, as a reload of the config does. */
  setAllowed: (entries: string[]) => void;
  /** Names the host resolver was asked for, in order. */
  asked: string[];
  events: DnsQueryEvent[];
}

const listeners: DnsListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

function recordingResolver(asked: string[]): HostResolver {
  return async (name, family) => {
    asked.push(name);
    const found = HOST[name]?.[family];
    if (found) return found;
    throw Object.assign(new Error(`no ${name}`), { code: HOST[name] ? "ENODATA" : "ENOTFOUND" });
  };
}

async function serve(
  entries: string[],
  options: { resolve?: HostResolver; limits?: Partial<DnsLimits> } = {},
): Promise<Served> {
  const asked: string[] = [];
  const events: DnsQueryEvent[] = [];
  let allowed = parseDomainRules(entries);
  const dns = new EgressDns({
    sandbox: "sb-1",
    allowed: () => allowed,
    resolve: options.resolve ?? recordingResolver(asked),
    onQuery: (event) => events.push(event),
    limits: options.limits,
  });
  // A free UDP port, and the same port on TCP, where a client retries a truncated answer; the
  // TCP port may be another process's (the system picked only the UDP one): then another pair.
  let udp: DnsListener | undefined;
  for (let attempt = 0; !udp; attempt++) {
    const candidate = await dns.listenUdp(0, "127.0.0.1");
    try {
      listeners.push(await dns.listenTcp(candidate.port, "127.0.0.1"));
      udp = candidate;
    } catch (err) {
      await candidate.close();
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 20) throw err;
    }
  }
  listeners.push(udp);
  const setAllowed = (next: string[]) => {
    allowed = parseDomainRules(next);
  };
  return { dns, port: udp.port, setAllowed, asked, events };
}

/** A fresh client each time: c-ares keeps a cache per channel, and these tests change answers. */
function client(port: number): Resolver {
  const resolver = new Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return resolver;
}

function errorCode(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "resolved",
    (error: { code?: unknown }) => error.code,
  );
}

function query(name: string, type: string, id = 7): Buffer {
  return packet.encode({
    type: "query",
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType }],
  });
}

/** Sends raw bytes over UDP and waits for one reply. */
async function udpExchange(port: number, message: Buffer): Promise<packet.DecodedPacket> {
  const socket = dgram.createSocket("udp4");
  try {
    const reply = new Promise<Buffer>((resolve) => socket.once("message", resolve));
    socket.send(message, port, "127.0.0.1");
    return packet.decode(await reply);
  } finally {
    socket.close();
  }
}

function rcodeOf(reply: packet.DecodedPacket): string {
  return (reply as packet.DecodedPacket & { rcode: string }).rcode;
}

/** Writes raw bytes on one TCP connection and reads `count` length-prefixed replies. */
async function tcpExchange(
  port: number,
  writes: Buffer[],
  count: number,
): Promise<packet.DecodedPacket[]> {
  const socket = net.connect(port, "127.0.0.1");
  const replies: packet.DecodedPacket[] = [];
  let pending = Buffer.alloc(0);
  try {
    for (const write of writes) socket.write(write);
    for await (const chunk of socket) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        replies.push(packet.decode(pending.subarray(2, 2 + pending.readUInt16BE(0))));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (replies.length >= count) break;
    }
    return replies;
  } finally {
    socket.destroy();
  }
}

function dataOf(reply: packet.DecodedPacket | undefined): unknown[] {
  return (reply?.answers ?? []).map((answer) => (answer as packet.StringAnswer).data);
}

function framed(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

describe("EgressDns over UDP, asked by Node's own resolver", () => {
  it("resolves a listed name on the host and answers NXDOMAIN for an unlisted one", async () => {
    const s = await serve(["api.allowed.test"]);
    expect(await client(s.port).resolve4("api.allowed.test", { ttl: true })).toEqual([
      { address: "127.0.0.2", ttl: 5 },
    ]);
    expect(await client(s.port).resolve6("api.allowed.test")).toEqual(["::1"]);
    expect(await client(s.port).resolve4("API.Allowed.TEST")).toEqual(["127.0.0.2"]);
    // Control: the same host answer exists for this name, but it is not on the list.
    expect(await errorCode(client(s.port).resolve4("x.wild.test"))).toBe("ENOTFOUND");
    expect(s.asked).not.toContain("x.wild.test");
    expect(s.events).toContainEqual({
      sandbox: "sb-1",
      name: "x.wild.test",
      type: "A",
      allowed: false,
      rcode: "NXDOMAIN",
    });
    expect(s.events).toContainEqual({
      sandbox: "sb-1",
      name: "api.allowed.test",
      type: "A",
      allowed: true,
      rcode: "NOERROR",
    });
  });

  it("lets *.suffix match names below the suffix, and not the suffix itself", async () => {
    const s = await serve(["*.wild.test:443"]);
    expect(await client(s.port).resolve4("x.wild.test")).toEqual(["127.0.0.3"]);
    expect(await client(s.port).resolve4("a.b.wild.test")).toEqual(["127.0.0.4"]);
    // Controls: the apex and a name that only ends in the same letters.
    expect(await errorCode(client(s.port).resolve4("wild.test"))).toBe("ENOTFOUND");
    expect(await errorCode(client(s.port).resolve4("xwild.test"))).toBe("ENOTFOUND");
    expect(s.asked).toEqual(["x.wild.test", "a.b.wild.test"]);
  });

  it("returns no TXT data for a listed name or an unlisted one, and asks the host neither", async () => {
    const s = await serve(["api.allowed.test"]);
    expect(await errorCode(client(s.port).resolveTxt("api.allowed.test"))).toBe("ENODATA");
    expect(await errorCode(client(s.port).resolveTxt("base32data.attacker.test"))).toBe(
      "ENOTFOUND",
    );
    for (const type of ["MX", "SRV", "CNAME", "NULL"]) {
      const reply = await udpExchange(s.port, query("api.allowed.test", type));
      expect([rcodeOf(reply), reply.answers]).toEqual(["NOERROR", []]);
    }
    expect(s.asked).toEqual([]);
    // Control: the same name's A record does go to the host.
    expect(await client(s.port).resolve4("api.allowed.test")).toEqual(["127.0.0.2"]);
    expect(s.asked).toEqual(["api.allowed.test"]);
  });

  it("refuses ANY, for a listed name too", async () => {
    const s = await serve(["api.allowed.test"]);
    expect(await errorCode(client(s.port).resolveAny("api.allowed.test"))).toBe("EREFUSED");
    expect(rcodeOf(await udpExchange(s.port, query("api.allowed.test", "ANY")))).toBe("REFUSED");
    expect(s.asked).toEqual([]);
    expect(s.events.map((e) => [e.type, e.allowed, e.rcode])).toEqual([
      ["ANY", true, "REFUSED"],
      ["ANY", true, "REFUSED"],
    ]);
    // Control: the same name's A record is answered.
    expect(await client(s.port).resolve4("api.allowed.test")).toEqual(["127.0.0.2"]);
  });

  it("passes on what the host says: no such name, or a failure", async () => {
    const s = await serve(["api.allowed.test", "gone.allowed.test", "broken.allowed.test"], {
      resolve: async (name) => {
        if (name === "api.allowed.test") return ["127.0.0.2"];
        const code = name === "gone.allowed.test" ? "ENOTFOUND" : "ETIMEOUT";
        throw Object.assign(new Error(name), { code });
      },
    });
    expect(await errorCode(client(s.port).resolve4("gone.allowed.test"))).toBe("ENOTFOUND");
    expect(await errorCode(client(s.port).resolve4("broken.allowed.test"))).toBe("ESERVFAIL");
    expect(await client(s.port).resolve4("api.allowed.test")).toEqual(["127.0.0.2"]);
  });

  it("never hands a data-carrying unlisted name to the host resolver", async () => {
    const s = await serve(["api.allowed.test"]);
    const leak =
      "mzxw6ytboi4dsmbvgeydsmjqgaydcnbvga3dkmbxgq2tqojqgeydgnjy.base32data.attacker.test";
    expect(await errorCode(client(s.port).resolve4(leak))).toBe("ENOTFOUND");
    expect(await errorCode(client(s.port).resolve6(leak))).toBe("ENOTFOUND");
    expect(await errorCode(client(s.port).resolve4("base32data.attacker.test"))).toBe("ENOTFOUND");
    expect(s.asked).toEqual([]);
    // Control: once the attacker's name is listed, the same query does reach the host.
    s.setAllowed(["api.allowed.test", "*.attacker.test"]);
    expect(await client(s.port).resolve4("base32data.attacker.test")).toEqual(["127.0.0.7"]);
    expect(s.asked).toEqual(["base32data.attacker.test"]);
  });

  it("applies a change of the allow-list to the next query", async () => {
    const s = await serve(["api.allowed.test"]);
    expect(await errorCode(client(s.port).resolve4("late.test"))).toBe("ENOTFOUND");
    s.setAllowed(["api.allowed.test", "late.test"]);
    expect(await client(s.port).resolve4("late.test")).toEqual(["127.0.0.6"]);
    s.setAllowed(["api.allowed.test"]);
    expect(await errorCode(client(s.port).resolve4("late.test"))).toBe("ENOTFOUND");
    expect(s.asked).toEqual(["late.test"]);
  });

  it("survives malformed input and answers a valid query after it", async () => {
    const s = await serve(["api.allowed.test"]);
    const garbage = Buffer.from("this is not a dns message at all", "utf8");
    expect(rcodeOf(await udpExchange(s.port, garbage))).toBe("FORMERR");
    const two = packet.encode({
      type: "query",
      id: 9,
      questions: [
        { name: "api.allowed.test", type: "A" },
        { name: "late.test", type: "A" },
      ],
    });
    expect(rcodeOf(await udpExchange(s.port, two))).toBe("FORMERR");
    const tooLong = Array.from({ length: 5 }, () => "a".repeat(63)).join(".");
    expect(rcodeOf(await udpExchange(s.port, query(tooLong, "A")))).toBe("FORMERR");
    const notAHostName = await udpExchange(s.port, query("bad name\u0007.test", "A"));
    expect([rcodeOf(notAHostName), notAHostName.questions]).toEqual(["REFUSED", []]);
    const notify = Buffer.from(query("api.allowed.test", "A"));
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    expect(rcodeOf(await udpExchange(s.port, notify))).toBe("NOTIMP");
    // No reply is owed to a short fragment; the server must still be there afterwards.
    const fragment = dgram.createSocket("udp4");
    await new Promise((resolve) =>
      fragment.send(Buffer.from([1, 2, 3]), s.port, "127.0.0.1", resolve),
    );
    fragment.close();
    expect(await client(s.port).resolve4("api.allowed.test")).toEqual(["127.0.0.2"]);
  });

  it("answers a reply too big for UDP as truncated, and in full over TCP", async () => {
    const name = `${"n".repeat(60)}.${"m".repeat(60)}.allowed.test`;
    const many = Array.from({ length: 12 }, (_, i) => `127.0.1.${i + 1}`);
    const s = await serve([name], { resolve: async () => many });
    const udp = await udpExchange(s.port, query(name, "A"));
    expect([udp.flag_tc, udp.answers]).toEqual([true, []]);
    expect(await client(s.port).resolve4(name)).toEqual(many);
  });

  it("answers a CNAME chain on the host with the final addresses only", async () => {
    // An upstream server on loopback that answers with a chain, as public resolvers do.
    const upstream = dgram.createSocket("udp4");
    upstream.on("message", (message, from) => {
      const asked = packet.decode(message);
      const answers: packet.Answer[] = [
        { type: "CNAME", name: "alias.allowed.test", ttl: 60, data: "target.elsewhere.test" },
        { type: "A", name: "target.elsewhere.test", ttl: 60, data: "127.0.0.9" },
      ];
      const out = packet.encode({
        type: "response",
        id: asked.id,
        flags: packet.RECURSION_AVAILABLE,
        questions: asked.questions,
        answers,
      });
      upstream.send(out, from.port, from.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, "127.0.0.1", resolve));
    listeners.push({
      address: "127.0.0.1",
      port: 0,
      close: () => new Promise((resolve) => upstream.close(resolve)),
    });
    const onHost = new Resolver({ timeout: 3000, tries: 1 });
    onHost.setServers([`127.0.0.1:${upstream.address().port}`]);
    const s = await serve(["alias.allowed.test"], { resolve: hostResolver(onHost) });
    const reply = await udpExchange(s.port, query("alias.allowed.test", "A"));
    const answered = reply.answers?.map((a) => [a.type, a.name, (a as packet.StringAnswer).data]);
    expect(answered).toEqual([["A", "alias.allowed.test", "127.0.0.9"]]);
    // Control: what the host's server said did hold the chain.
    expect(await onHost.resolveCname("alias.allowed.test")).toEqual(["target.elsewhere.test"]);
  });

  it("refuses to listen on an unspecified address", async () => {
    const dns = new EgressDns({ sandbox: "sb-1", allowed: () => [] });
    await expect(dns.listenUdp(0, "0.0.0.0")).rejects.toThrow(/one IP address to listen on/);
    await expect(dns.listenTcp(0, "::")).rejects.toThrow(/one IP address to listen on/);
  });
});

describe("EgressDns over TCP", () => {
  it("answers length-prefixed queries in turn on one connection", async () => {
    const s = await serve(["api.allowed.test"]);
    const replies = await tcpExchange(
      s.port,
      [framed(query("api.allowed.test", "A", 1)), framed(query("late.test", "A", 2))],
      2,
    );
    expect(replies.map((r) => [r.id, rcodeOf(r), dataOf(r)])).toEqual([
      [1, "NOERROR", ["127.0.0.2"]],
      [2, "NXDOMAIN", []],
    ]);
    expect(s.asked).toEqual(["api.allowed.test"]);
  });

  it("answers garbage with FORMERR and keeps the connection serving", async () => {
    const s = await serve(["api.allowed.test"]);
    // A query header claiming one question, then a name that points nowhere.
    const garbage = Buffer.concat([
      Buffer.from([0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      Buffer.alloc(28, 0xff),
    ]);
    const replies = await tcpExchange(
      s.port,
      [framed(garbage), framed(query("api.allowed.test", "A", 3))],
      2,
    );
    expect(replies.map((r) => rcodeOf(r))).toEqual(["FORMERR", "NOERROR"]);
    expect(dataOf(replies[1])).toEqual(["127.0.0.2"]);
  });
});

describe("EgressDns limits per sandbox", () => {
  it("refuses queries beyond the in-flight cap while host lookups hang", async () => {
    let hang = true;
    const waiting: Array<() => void> = [];
    const resolve: HostResolver = () =>
      hang
        ? new Promise((done) => waiting.push(() => done(["127.0.0.2"])))
        : Promise.resolve(["127.0.0.2"]);
    const dns = new EgressDns({
      sandbox: "sb-1",
      allowed: () => parseDomainRules(["api.allowed.test"]),
      resolve,
      limits: { maxInFlight: 2 },
    });
    const rcode = async (reply: Promise<Buffer | undefined>) =>
      rcodeOf(packet.decode((await reply) ?? Buffer.alloc(0)));
    const first = rcode(dns.answer(query("api.allowed.test", "A", 1), "udp"));
    const second = rcode(dns.answer(query("api.allowed.test", "A", 2), "udp"));
    expect(await rcode(dns.answer(query("api.allowed.test", "A", 3), "udp"))).toBe("REFUSED");
    hang = false;
    for (const release of waiting) release();
    expect([await first, await second]).toEqual(["NOERROR", "NOERROR"]);
    // Control: with the slots free again, the same query is answered.
    expect(await rcode(dns.answer(query("api.allowed.test", "A", 4), "udp"))).toBe("NOERROR");
  });

  it("keeps one sandbox's flood from refusing another sandbox's queries", async () => {
    const make = (sandbox: string) =>
      new EgressDns({
        sandbox,
        allowed: () => parseDomainRules(["api.allowed.test"]),
        resolve: async () => ["127.0.0.2"],
        limits: { perSecond: 0, burst: 2 },
      });
    const [flooded, quiet] = [make("sb-1"), make("sb-2")];
    const rcode = async (dns: EgressDns, id: number) =>
      rcodeOf(
        packet.decode(
          (await dns.answer(query("api.allowed.test", "A", id), "udp")) ?? Buffer.alloc(0),
        ),
      );
    for (let id = 1; id <= 2; id++) expect(await rcode(flooded, id)).toBe("NOERROR");
    expect(await rcode(flooded, 3)).toBe("REFUSED");
    expect(await rcode(quiet, 4)).toBe("NOERROR");
  });

  it("refuses queries beyond the rate, unlisted ones included", async () => {
    const dns = new EgressDns({
      sandbox: "sb-1",
      allowed: () => [],
      resolve: async () => [],
      limits: { perSecond: 0, burst: 3 },
    });
    const rcodes: string[] = [];
    for (let id = 1; id <= 4; id++) {
      const reply = await dns.answer(query(`q${id}.attacker.test`, "A", id), "udp");
      rcodes.push(rcodeOf(packet.decode(reply ?? Buffer.alloc(0))));
    }
    expect(rcodes).toEqual(["NXDOMAIN", "NXDOMAIN", "NXDOMAIN", "REFUSED"]);
  });
});

describe("dnsNameAllowed", () => {
  it("matches exact names and *.suffix, ignoring case and a port", () => {
    const list = parseDomainRules(["Api.Allowed.test:8443", "*.wild.test"]);
    expect(dnsNameAllowed("api.allowed.test", list)).toBe(true);
    expect(dnsNameAllowed("x.api.allowed.test", list)).toBe(false);
    expect(dnsNameAllowed("a.b.WILD.test", list)).toBe(true);
    expect(dnsNameAllowed("wild.test", list)).toBe(false);
    expect(dnsNameAllowed("evilwild.test", list)).toBe(false);
  });
});
