import { Resolver as DnsResolver } from "node:dns/promises";
import { type FSWatcher, promises as fs, watch } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Logger } from "../log.ts";
import { type DnsQueryEvent, EgressDns, type HostResolver, hostResolver } from "./dns.ts";
import { serveConnection } from "./dns-listen.ts";
import { parseDomainRules } from "./policy.ts";
import { type EgressEvent, type EgressPolicy, EgressProxy, type Resolver } from "./proxy.ts";
import { cachedResolver, systemResolver } from "./upstream.ts";

/** The sockets the relay of each sandbox connects to, in that sandbox's directory. */
export const EGRESS_SOCKETS = {
  proxy: "proxy.sock",
  dns: "dns.sock",
  dnsUdp: "dns-udp.sock",
} as const;

/** What `wm status` and the dashboard show of a sandbox's egress. */
export interface EgressCounts {
  allowed: number;
  denied: number;
}

interface Open {
  dir: string;
  servers: net.Server[];
  dns: EgressDns;
  counts: EgressCounts;
}

export interface EgressServiceOptions {
  /** Where each sandbox's socket directory is made (`<dir>/<sandbox id>`). */
  dir: string;
  log: Logger;
  /** The current `sandbox.network` of the global file; read again by {@link refresh}. */
  readPolicy(): Promise<EgressPolicy>;
  /** Where the global file may be: watched while a sandbox has egress. */
  configDirs: readonly string[];
  /** `host:port` name servers for every lookup of the proxy and the resolver (default: the host's). */
  nameServers?: readonly string[];
}

/**
 * Egress for every sandbox under `network.policy: deny`: one proxy, one DNS resolver per
 * sandbox, and per sandbox a directory of Unix sockets its relay connects to (identity = the
 * socket). Every decision is logged with the sandbox's id (`wm sandbox logs NAME --net`) and
 * counted. The policy is the global file's, re-read on {@link refresh}, so an edit of
 * `allowed_domains` applies to the next connection and query of every running sandbox.
 */
export class EgressService {
  readonly #proxy: EgressProxy;
  readonly #open = new Map<string, Open>();
  readonly #hostResolve: HostResolver;
  #policy: EgressPolicy = { allowed_domains: [] };
  #rules = parseDomainRules([]);
  #refreshing: Promise<void> | undefined;
  #again = false;
  readonly #watchers: FSWatcher[] = [];

  constructor(private readonly options: EgressServiceOptions) {
    let resolve: Resolver | undefined;
    if (options.nameServers && options.nameServers.length > 0) {
      const resolver = new DnsResolver({ timeout: 2000, tries: 2 });
      resolver.setServers([...options.nameServers]);
      this.#hostResolve = hostResolver(resolver);
      resolve = async (host) => {
        const [v4, v6] = await Promise.all(
          [resolver.resolve4(host), resolver.resolve6(host)].map((p) => p.catch(() => [])),
        );
        const all = [...(v4 ?? []), ...(v6 ?? [])];
        if (all.length === 0) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
        return all.map((address) => ({ address, family: net.isIP(address) }));
      };
    } else {
      this.#hostResolve = hostResolver();
    }
    this.#proxy = new EgressProxy({
      policy: () => this.#policy,
      onDecision: (event) => this.#decided(event),
      resolve: cachedResolver(resolve ?? systemResolver),
    });
  }

  /**
   * Re-reads the global file; a file that does not load keeps the last good policy. Each
   * policy put in force is logged with both lists (`egress policy loaded`).
   */
  refresh(): Promise<void> {
    this.#refreshing ??= this.options
      .readPolicy()
      .then(
        (policy) => {
          this.#rules = parseDomainRules(policy.allowed_domains);
          this.#policy = policy;
          this.options.log.info(
            {
              allowed_domains: policy.allowed_domains,
              allow_private_ips: policy.allow_private_ips ?? [],
            },
            "egress policy loaded",
          );
        },
        (err: Error) =>
          this.options.log.warn(
            { err },
            "the global config does not load; egress keeps its last allow-list",
          ),
      )
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  /**
   * Opens a sandbox's sockets; returns the directory to mount into its relay. Its directory is
   * kept across a daemon restart (the relay's mount holds on to it) and only its sockets made anew.
   */
  async open(sandbox: string): Promise<string> {
    const existing = this.#open.get(sandbox);
    if (existing) return existing.dir;
    this.#watch();
    await this.refresh();
    await fs.mkdir(this.options.dir, { recursive: true, mode: 0o711 });
    await fs.chmod(this.options.dir, 0o711);
    const dir = path.join(this.options.dir, sandbox);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await fs.chmod(dir, 0o755);
    // The sandbox's resolver is its relay, on the loopback they share.
    await fs.writeFile(path.join(dir, "resolv.conf"), "nameserver 127.0.0.1\noptions ndots:0\n", {
      mode: 0o644,
    });
    const counts: EgressCounts = { allowed: 0, denied: 0 };
    const dns = new EgressDns({
      sandbox,
      allowed: () => this.#rules,
      resolve: this.#hostResolve,
      onQuery: (event) => this.#queried(event, counts),
    });
    const entry: Open = { dir, servers: [], dns, counts };
    this.#open.set(sandbox, entry);
    try {
      entry.servers.push(
        await listen(path.join(dir, EGRESS_SOCKETS.proxy), (socket) =>
          this.#proxy.handleConnection(socket, sandbox),
        ),
        await listen(path.join(dir, EGRESS_SOCKETS.dns), (socket) =>
          serveConnection((m) => dns.answer(m, "tcp"), socket),
        ),
        await listen(path.join(dir, EGRESS_SOCKETS.dnsUdp), (socket) =>
          serveConnection((m) => dns.answer(m, "udp"), socket, { concurrent: true }),
        ),
      );
    } catch (err) {
      await this.close(sandbox);
      throw err;
    }
    return dir;
  }

  /**
   * Watches the directories the global file may be in: an edit (or an editor's rename over it)
   * re-reads the policy at once, for every running sandbox.
   */
  #watch(): void {
    if (this.#watchers.length > 0) return;
    for (const dir of this.options.configDirs) {
      try {
        const watcher = watch(dir, () => void this.#changed());
        watcher.on("error", () => watcher.close());
        this.#watchers.push(watcher);
      } catch {
        // Not there (yet): the file it would hold cannot apply either.
      }
    }
  }

  async #changed(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    await this.refresh();
    if (this.#again) {
      this.#again = false;
      await this.#changed();
    }
  }

  counts(sandbox: string): EgressCounts | undefined {
    const open = this.#open.get(sandbox);
    return open ? { ...open.counts } : undefined;
  }

  async close(sandbox: string): Promise<void> {
    const open = this.#open.get(sandbox);
    this.#open.delete(sandbox);
    if (!open) return;
    await Promise.all(
      open.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    await fs.rm(open.dir, { recursive: true, force: true });
  }

  /** The daemon stops: sockets close, directories stay for the relays the next daemon adopts. */
  async closeAll(): Promise<void> {
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    this.#proxy.close();
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(
      open.flatMap((o) =>
        o.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ),
    );
  }

  #decided(event: EgressEvent): void {
    const counts = this.#open.get(event.sandbox)?.counts;
    // An allowed flow reports twice (decided, then ended with its bytes): count it once.
    if (event.bytes === undefined && counts) {
      if (event.allowed) counts.allowed++;
      else counts.denied++;
    }
    const fields = {
      sandbox: event.sandbox,
      net: event.bytes ? "end" : event.allowed ? "allow" : "deny",
      host: event.host,
      port: event.port,
      method: event.method,
      reason: event.reason,
      ...(event.address ? { address: event.address } : {}),
      ...(event.bytes ? { bytesUp: event.bytes.up, bytesDown: event.bytes.down } : {}),
    };
    if (event.allowed) this.options.log.info(fields, "egress allowed");
    else this.options.log.warn(fields, "egress denied");
  }

  #queried(event: DnsQueryEvent, counts: EgressCounts): void {
    if (!event.allowed) counts.denied++;
    const fields = {
      sandbox: event.sandbox,
      net: event.allowed ? "allow" : "deny",
      dns: event.type,
      host: event.name,
      rcode: event.rcode,
    };
    if (event.allowed) this.options.log.info(fields, "egress dns");
    else this.options.log.warn(fields, "egress dns denied");
  }
}

/** A Unix socket any local user may connect to: only the relay's mount exposes its directory. */
async function listen(
  file: string,
  onConnection: (socket: net.Socket) => void,
): Promise<net.Server> {
  await fs.rm(file, { force: true });
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(file, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await fs.chmod(file, 0o666);
  return server;
}
