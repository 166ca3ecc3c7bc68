import { promises as fs } from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import {
  killDaemon,
  logLength,
  makeSandboxHome,
  runCommand,
  runWm,
  type SandboxClient,
  type SandboxHome,
  startSandboxClient,
  waitForLogLine,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EgressWorld, startEgressWorld } from "./egress-fixture.ts";

const BASE_IMAGE = "wm-base:bookworm";

const PODMAN = process.env.WM_PODMAN_SOCKET;

let world: EgressWorld;
let worldDir: string;

beforeAll(async () => {
  worldDir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-egress-world-"));
  world = await startEgressWorld(worldDir, BASE_IMAGE);
}, 120_000);

afterAll(async () => {
  await world?.close();
  await fs.rm(worldDir, { recursive: true, force: true });
});

// Programs run with runCommand, never synchronously: the test DNS server answers from this
// process's event loop, so nothing here may block on a lookup it serves.

/** The same command without wm: a plain container on the servers' own network. */
function direct(script: string) {
  return runCommand("docker", [
    "run",
    "--rm",
    "--network",
    world.networks[0],
    "-v",
    `${world.caFile}:/ca.pem:ro`,
    BASE_IMAGE,
    "sh",
    "-c",
    script,
  ]);
}

/** A DNS question over UDP, answered as `rcode=N answers=N` (perl: the image has no dig). */
const dnsQuery = (server: string, port: number, name: string, type: number) =>
  `perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerAddr => "${server}", PeerPort => ${port}, Proto => "udp") or die "socket: $!";
    my $q = pack("nnnnnn", 4660, 256, 1, 0, 0, 0);
    $q .= pack("C", length $_) . $_ for split /\\./, "${name}";
    $q .= pack("Cnn", 0, ${type}, 1);
    $s->send($q);
    my $r; my $rin = ""; vec($rin, fileno($s), 1) = 1;
    select($rin, undef, undef, 10) or die "no answer\\n";
    $s->recv($r, 4096);
    my ($id, $flags, $qd, $an) = unpack("nnnn", $r);
    print "rcode=", $flags & 15, " answers=$an\\n";'`;

const RUNTIMES = ["docker", ...(PODMAN || process.env.CI ? ["podman" as const] : [])] as const;

describe.each(RUNTIMES)("sandbox.network.policy: deny (%s)", (runtime) => {
  let bench: SandboxHome;
  let wt: string;
  let client: SandboxClient;
  let cid: string;
  let name: string;
  let configFile: string;
  const engine = runtime === "podman" ? ["-H", `unix://${PODMAN}`] : [];

  type Extra = { domains?: string[]; privateIps?: string[] };
  const lists = (extra: Extra) => ({
    domains: ["allowed.test", "allowed.test:80", "other.test:8443", ...(extra.domains ?? [])],
    privateIps: [world.subnet, ...(extra.privateIps ?? [])],
  });
  const config = (extra: Extra = {}) =>
    [
      "agent: demo",
      "sandbox:",
      "  container:",
      `    runtime: ${runtime}`,
      "  network:",
      "    policy: deny",
      `    allowed_domains: ${JSON.stringify(lists(extra).domains)}`,
      `    allow_private_ips: ${JSON.stringify(lists(extra).privateIps)}`,
      "",
    ].join("\n");

  /** A command inside the running sandbox (its network and environment), as its user. */
  const box = (script: string) =>
    runCommand("docker", [...engine, "exec", "-u", "1000:1000", cid, "sh", "-c", script]);
  const ca = () => path.join(wt, "ca.pem");

  /**
   * Rewrites the global file with `extra` on its lists, then waits for the daemon's log to show
   * exactly those lists put in force (it re-reads the file when its directory changes; an
   * editor's partial writes may show first): the sandbox's next connection and lookup use them.
   */
  async function reconfigure(extra: Extra = {}): Promise<void> {
    const log = bench.home.logFile;
    const after = await logLength(log);
    await fs.writeFile(configFile, config(extra));
    const want = lists(extra);
    await waitForLogLine(
      log,
      (line) =>
        line.msg === "egress policy loaded" &&
        isDeepStrictEqual(
          (line.allowed_domains as { host: string }[]).map((d) => d.host),
          want.domains,
        ) &&
        isDeepStrictEqual(line.allow_private_ips, want.privateIps),
      { after },
    );
  }

  beforeAll(async () => {
    bench = await makeSandboxHome({
      branches: ["net"],
      config: config(),
      env: { WM_EGRESS_DNS_SERVERS: `127.0.0.1:${world.dnsPort}` },
    });
    configFile = path.join(bench.home.configDir, "config.yaml");
    wt = bench.repo.worktrees.net as string;
    await fs.copyFile(world.caFile, ca());
    await fs.chmod(ca(), 0o644);
    client = startSandboxClient(bench.home.env, wt, "echo up; exec sleep 600");
    const running = await waitForRunningSandbox(bench.home.env, () => true, 60_000);
    cid = running.containerId;
    name = running.name;
  }, 320_000);

  afterAll(async () => {
    client?.child.kill("SIGTERM");
    await bench?.cleanup();
  });

  it("an allowed host over CONNECT works (curl through the proxy variables)", async () => {
    const r = await box(`curl -sS --cacert ${ca()} https://allowed.test/`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello https allowed.test\n");
  });

  it("a denied host gets 403 naming it and the key that allows it; the allowed one 200", async () => {
    const connect = async (host: string) =>
      (
        await box(
          `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:3128") or die; print $s "CONNECT ${host}:443 HTTP/1.1\\r\\nHost: ${host}:443\\r\\n\\r\\n"; $_ = <$s>; print; if (/ 200 /) { exit 0 } print while <$s>'`,
        )
      ).stdout;
    const denied = await connect("denied.test");
    expect(denied).toMatch(/^HTTP\/1.1 403/);
    expect(denied).toContain("denied.test");
    expect(denied).toContain('add "denied.test" to sandbox.network.allowed_domains');
    expect(await connect("allowed.test")).toMatch(/^HTTP\/1.1 200/);
  });

  const connectStatus = async (url: string) =>
    (await box(`curl -sS -o /dev/null -w '%{http_connect}' --cacert ${ca()} ${url}`)).stdout;

  it("an IP literal is refused; without wm the same address answers", async () => {
    expect(await connectStatus(`https://${world.serverIp}/`)).toBe("403");
    expect((await direct(`curl -sk https://${world.serverIp}/`)).stdout).toContain("hello https");
  });

  it("a name resolving to an address no policy names is refused, and allowed once allow_private_ips names it", async () => {
    expect(await connectStatus("https://inner.test/")).toBe("403");
    await reconfigure({ domains: ["inner.test"], privateIps: [world.innerSubnet] });
    expect((await box(`curl -sS --cacert ${ca()} https://inner.test/`)).stdout).toBe(
      "hello https inner.test\n",
    );
    await reconfigure({ domains: ["inner.test"] });
    expect(await connectStatus("https://inner.test/")).toBe("403");
  });

  it("a port other than the listed one is refused; the listed port works", async () => {
    expect(await connectStatus("https://allowed.test:8443/")).toBe("403");
    expect((await box(`curl -sS --cacert ${ca()} https://other.test:8443/`)).stdout).toBe(
      "hello https other.test:8443\n",
    );
  });

  it("plain HTTP to a denied host is refused with the reason; to an allowed host it is forwarded", async () => {
    const denied = (await box("curl -sS -w '\\n%{http_code}' http://denied.test/")).stdout;
    expect(denied).toContain("wm egress proxy refused");
    expect(denied).toContain("sandbox.network.allowed_domains");
    expect(denied.trim().endsWith("403")).toBe(true);
    expect((await box("curl -sS http://allowed.test/")).stdout).toBe("hello http allowed.test\n");
  });

  it("a tool that ignores the proxy variables has no route; without wm the same connect works", async () => {
    const r = await box(`curl -sS --noproxy '*' --connect-timeout 10 http://${world.serverIp}/`);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect((await direct(`curl -sS http://${world.serverIp}/`)).stdout).toContain("hello http");
  });

  it("DNS answers listed names only: an unlisted name is NXDOMAIN and never leaves the machine", async () => {
    expect((await box("getent hosts allowed.test")).stdout).toContain(world.serverIp);
    const seen = world.dnsSeen.length;
    expect((await box("getent hosts denied.test")).code).not.toBe(0);
    expect((await box(dnsQuery("127.0.0.1", 53, "denied.test", 1))).stdout).toBe(
      "rcode=3 answers=0\n",
    );
    expect(world.dnsSeen.slice(seen).filter((q) => q.includes("denied.test"))).toEqual([]);
    // Control: the name server itself knows the name.
    const asked = await runCommand("sh", [
      "-c",
      dnsQuery("127.0.0.1", world.dnsPort, "denied.test", 1),
    ]);
    expect(asked.stdout).toBe("rcode=0 answers=1\n");
  });

  it("a TXT query carries nothing: empty for a listed name, NXDOMAIN for others; the server has one", async () => {
    expect((await box(dnsQuery("127.0.0.1", 53, "allowed.test", 16))).stdout).toBe(
      "rcode=0 answers=0\n",
    );
    expect((await box(dnsQuery("127.0.0.1", 53, "exfil-data.other.test", 16))).stdout).toBe(
      "rcode=3 answers=0\n",
    );
    const asked = await runCommand("sh", [
      "-c",
      dnsQuery("127.0.0.1", world.dnsPort, "allowed.test", 16),
    ]);
    expect(asked.stdout).toBe("rcode=0 answers=1\n");
  });

  it("every decision is in `wm sandbox logs NAME --net`, and the list counts the denials", async () => {
    const logs = await runWm(["sandbox", "logs", name, "--net", "-n", "1000"], {
      env: bench.home.env,
    });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/egress denied.*host=denied\.test/);
    expect(logs.stdout).toMatch(/egress allowed.*host=allowed\.test/);
    expect(logs.stdout).not.toContain("sandbox started");
    const listed = await runWm(["sandbox", "list", "--json"], { env: bench.home.env });
    const mine = (
      JSON.parse(listed.stdout).sandboxes as {
        name: string;
        egress: { allowed: number; denied: number };
      }[]
    ).find((s) => s.name === name);
    expect(mine?.egress.denied).toBeGreaterThan(0);
    expect(mine?.egress.allowed).toBeGreaterThan(0);
  });

  it("a name added to allowed_domains applies to the running sandbox at once", async () => {
    await reconfigure({ domains: ["denied.test"] });
    expect((await box(`curl -sS --cacert ${ca()} https://denied.test/`)).stdout).toBe(
      "hello https denied.test\n",
    );
    expect((await box("getent hosts denied.test")).stdout).toContain(world.serverIp);
    await reconfigure();
    expect((await box("getent hosts denied.test")).code).not.toBe(0);
  });

  it("after a daemon kill -9 the next daemon takes the sandbox back, and its egress works again", async () => {
    expect(await killDaemon(bench.home)).toBeDefined();
    // The sandbox's client starts the next daemon (it re-attaches), which adopts the sandbox.
    const again = await waitForRunningSandbox(bench.home.env, (s) => s.name === name, 60_000);
    expect(again.containerId).toBe(cid);
    expect((await box(`curl -sS --cacert ${ca()} https://allowed.test/`)).stdout).toBe(
      "hello https allowed.test\n",
    );
    expect((await box("curl -sS -o /dev/null -w '%{http_code}' http://denied.test/")).stdout).toBe(
      "403",
    );
  });
});

describe.each(RUNTIMES)("sandbox.network.policy: allow (%s)", (runtime) => {
  let bench: SandboxHome;
  let client: SandboxClient;
  let cid: string;
  let shimMounts: string[];
  let hostOnly: http.Server;
  let hostPort: number;
  const engine = runtime === "podman" ? ["-H", `unix://${PODMAN}`] : [];
  const box = (script: string) =>
    runCommand("docker", [...engine, "exec", "-u", "1000:1000", cid, "sh", "-c", script]);
  /** Without wm's network holder: a container on the engine's default network, `ip` at hand. */
  const plain = (script: string, network: string[] = []) =>
    runCommand("docker", [
      ...engine,
      "run",
      "--rm",
      ...network,
      ...shimMounts,
      BASE_IMAGE,
      "sh",
      "-c",
      script,
    ]);

  beforeAll(async () => {
    hostOnly = http.createServer((_req, res) => res.end("host loopback service\n"));
    await new Promise<void>((resolve) => hostOnly.listen(0, "127.0.0.1", resolve));
    hostPort = (hostOnly.address() as net.AddressInfo).port;
    bench = await makeSandboxHome({
      branches: ["open"],
      config: `agent: demo\nsandbox:\n  container:\n    runtime: ${runtime}\n`,
    });
    const wt = bench.repo.worktrees.open as string;
    client = startSandboxClient(bench.home.env, wt, "exec sleep 600");
    cid = (await waitForRunningSandbox(bench.home.env, () => true, 60_000)).containerId;
    const inspected = await runCommand("docker", [
      ...engine,
      "inspect",
      "-f",
      '{{range .Mounts}}{{if eq .Destination "/opt/wm" "/opt/wm/node"}}{{.Source}}:{{.Destination}} {{end}}{{end}}',
      cid,
    ]);
    shimMounts = inspected.stdout
      .trim()
      .split(/\s+/)
      .flatMap((m) => ["-v", `${m}:ro`]);
  }, 320_000);

  afterAll(async () => {
    client?.child.kill("SIGTERM");
    await bench?.cleanup();
    hostOnly?.close();
  });

  it("the cloud metadata address has no route from the sandbox; a plain container routes it out", async () => {
    const guarded = await box("/opt/wm/bin/ip route get 169.254.169.254");
    expect(guarded.code).not.toBe(0);
    expect(guarded.stdout).not.toContain(" via ");
    expect((await box("/opt/wm/bin/ip route show")).stdout).toContain("blackhole 169.254.0.0/16");
    const open = await plain("/opt/wm/bin/ip route get 169.254.169.254");
    expect(open.stdout).toContain(" via ");
  });

  it("the agent cannot take the route away (no NET_ADMIN); a container that has it can", async () => {
    const del = await box("/opt/wm/bin/ip route del blackhole 169.254.0.0/16");
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/not permitted/i);
    expect((await box("/opt/wm/bin/ip route show")).stdout).toContain("blackhole 169.254.0.0/16");
    const withCap = await plain(
      "/opt/wm/bin/ip route add blackhole 169.254.0.0/16 && /opt/wm/bin/ip route del blackhole 169.254.0.0/16 && echo removed",
      ["--cap-add", "NET_ADMIN"],
    );
    expect(withCap.stdout).toBe("removed\n");
  });

  it("the host's loopback services are out of reach; on the host's network they answer", async () => {
    const gateway = (await box("/opt/wm/bin/ip route show default")).stdout.split(/\s+/)[2];
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    for (const host of ["127.0.0.1", gateway as string]) {
      const r = await box(`curl -sS --connect-timeout 5 http://${host}:${hostPort}/`);
      expect(r.stdout).toBe("");
      expect(r.code).not.toBe(0);
    }
    const onHost = await plain(`curl -sS http://127.0.0.1:${hostPort}/`, ["--network", "host"]);
    expect(onHost.stdout).toBe("host loopback service\n");
  });

  it("keeps the engine's network otherwise: its default route out is there", async () => {
    const route = await box("/opt/wm/bin/ip route show default");
    expect(route.stdout).toMatch(/^default via /);
  });
});
