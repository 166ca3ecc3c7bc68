import { createServer, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { type AddressAllowance, allowanceFrom } from "./addresses.ts";
import type { EgressEvent, Flow, Opened } from "./flow.ts";
import { forward } from "./forward.ts";
import {
  type AllowedDomainEntry,
  type DomainRule,
  decide,
  normaliseHost,
  parseDomainRules,
} from "./policy.ts";
import { allowHint, rawResponse, refusalText } from "./refusal.ts";
import { tunnel } from "./tunnel.ts";
import { openUpstream, type Resolver, systemResolver } from "./upstream.ts";

export type { EgressEvent } from "./flow.ts";
export type { Resolver } from "./upstream.ts";

/** A sandbox's egress settings, as `sandbox.network` holds them. */
export interface EgressPolicy {
  readonly allowed_domains: ReadonlyArray<AllowedDomainEntry>;
  readonly allow_private_ips?: ReadonlyArray<string>;
}

export interface EgressProxyOptions {
  /** Read at every request, so a changed config applies to the next one. */
  policy(sandbox: string): EgressPolicy;
  onDecision?(event: EgressEvent): void;
  /** Default: the host's resolver (`dns.promises.lookup`, all addresses). */
  resolve?: Resolver;
  /** Concurrent client connections per sandbox (default 64); more are answered 429 and closed. */
  maxConnectionsPerSandbox?: number;
  /** Bytes both ways through one tunnel or one forwarded request (default 2 GiB); then cut. */
  maxBytesPerFlow?: number;
  /** CONNECT ports that carry only TLS, so a ClientHello naming the host is required (443). */
  tlsPorts?: ReadonlyArray<number>;
  /** Default 10 s each. */
  connectTimeoutMs?: number;
  helloTimeoutMs?: number;
}

export const EGRESS_DEFAULTS = {
  maxConnectionsPerSandbox: 64,
  maxBytesPerFlow: 2 * 1024 ** 3,
  tlsPorts: [443],
  connectTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
} as const;

interface ParsedPolicy {
  readonly rules: ReadonlyArray<DomainRule>;
  readonly allowance: AddressAllowance;
}

/**
 * The egress proxy of all sandboxes: an HTTP proxy (CONNECT tunnels and absolute-form plain
 * HTTP) that serves any duplex stream handed to it with the sandbox it belongs to.
 */
export class EgressProxy {
  private readonly server: Server;
  private readonly sandboxOf = new WeakMap<Duplex, string>();
  private readonly perSandbox = new Map<string, number>();
  private readonly sockets = new Set<{ destroy(): void }>();
  private readonly parsed = new WeakMap<EgressPolicy, ParsedPolicy>();
  private readonly resolve: Resolver;
  private readonly limits: Omit<Required<EgressProxyOptions>, "policy" | "onDecision" | "resolve">;

  constructor(private readonly options: EgressProxyOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.limits = { ...EGRESS_DEFAULTS, ...withoutUndefined(options) };
    this.server = createServer({ requireHostHeader: false }, (req, res) => {
      forward(this.flowFor(req.socket), req, res).catch(() => res.destroy());
    });
    this.server.on("connect", (req, socket: Duplex, head: Buffer) => {
      tunnel(this.flowFor(socket), req, socket, head).catch(() => socket.destroy());
    });
    this.server.on("clientError", (_err, socket: Duplex) => {
      if (socket.writable)
        socket.end(rawResponse(400, refusalText("request", "not an HTTP request")));
      else socket.destroy();
    });
  }

  /** Serves one connection from `sandbox` (a TCP or Unix socket, or any duplex stream). */
  handleConnection(socket: Duplex, sandbox: string): void {
    const count = this.perSandbox.get(sandbox) ?? 0;
    if (count >= this.limits.maxConnectionsPerSandbox) {
      const reason = `sandbox has ${count} open connections, the limit`;
      this.report({ sandbox, host: "", port: 0, method: "", allowed: false, reason });
      socket.on("error", () => socket.destroy());
      socket.end(rawResponse(429, refusalText("connection", reason)));
      return;
    }
    this.perSandbox.set(sandbox, count + 1);
    this.sandboxOf.set(socket, sandbox);
    this.keep(socket);
    socket.once("close", () => {
      const left = (this.perSandbox.get(sandbox) ?? 1) - 1;
      if (left > 0) this.perSandbox.set(sandbox, left);
      else this.perSandbox.delete(sandbox);
    });
    this.server.emit("connection", socket);
  }

  /** Open client connections of `sandbox`. */
  connections(sandbox: string): number {
    return this.perSandbox.get(sandbox) ?? 0;
  }

  /** Destroys every connection the proxy serves or opened. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private keep(socket: { destroy(): void; once(event: "close", f: () => void): unknown }): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private report(event: EgressEvent): void {
    try {
      this.options.onDecision?.(event);
    } catch {
      // A failing logger must not take the proxy down.
    }
  }

  private policyFor(sandbox: string): ParsedPolicy {
    const policy = this.options.policy(sandbox);
    let parsed = this.parsed.get(policy);
    if (!parsed) {
      parsed = {
        rules: parseDomainRules(policy.allowed_domains),
        allowance: allowanceFrom(policy.allow_private_ips ?? []),
      };
      this.parsed.set(policy, parsed);
    }
    return parsed;
  }

  private async open(sandbox: string, host: string, port: number, method: string): Promise<Opened> {
    const refused = (status: number, reason: string, hint?: string): Opened => {
      this.report({ sandbox, host, port, method, allowed: false, reason });
      return { ok: false, status, reason, ...(hint ? { hint } : {}) };
    };
    let policy: ParsedPolicy;
    try {
      policy = this.policyFor(sandbox);
    } catch (err) {
      return refused(403, `the egress policy cannot be used: ${(err as Error).message}`);
    }
    const decision = decide(host, port, policy.rules);
    if (!decision.allowed) return refused(403, decision.reason, allowHint(host, port));
    const allowance = { ...policy.allowance, privateRanges: decision.rule.privateRanges };
    const upstream = await openUpstream(
      normaliseHost(host),
      port,
      allowance,
      this.resolve,
      this.limits.connectTimeoutMs,
    );
    if (!upstream.ok) return refused(upstream.status, upstream.reason);
    const reason = `allowed by ${decision.rule.entry}`;
    this.report({ sandbox, host, port, method, allowed: true, reason, address: upstream.address });
    return upstream;
  }

  private flowFor(socket: Duplex): Flow {
    const sandbox = this.sandboxOf.get(socket) ?? "";
    return {
      sandbox,
      open: (host, port, method) => this.open(sandbox, host, port, method),
      report: (event) => this.report({ sandbox, ...event }),
      track: (s) => this.keep(s),
      maxBytes: this.limits.maxBytesPerFlow,
      tlsPorts: new Set(this.limits.tlsPorts),
      helloTimeoutMs: this.limits.helloTimeoutMs,
    };
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
