import { type ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type EgressWorld,
  startEgressWorld,
} from "../../../packages/daemon/test/egress-fixture.ts";
import { makeRepo, WM_BIN, waitForRunningSandbox } from "../../../packages/testing/src/index.ts";
import { run } from "../container-loop.ts";
import { type Summary, summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

const BASE_IMAGE = "wm-base:bookworm";
const MIB = 1024 * 1024;
/** The name the test server answers to; the daemon resolves it through the world's DNS server. */
const HOST = "allowed.test";

/** One curl run: its own `time_total` (seconds, measured where it runs), bytes and status. */
interface Transfer {
  seconds: number;
  bytes: number;
  code: string;
}

/**
 * A shell loop of `n` curl processes, each a fresh connection doing one request, printing
 * `time_total size_download http_code` per line. curl measures from its first connect to the
 * last byte, so neither `docker exec` nor curl's own start is counted.
 */
function curlLoop(n: number, args: string): string {
  return `i=0; while [ $i -lt ${n} ]; do curl -sS -o /dev/null -w '%{time_total} %{size_download} %{http_code}\\n' ${args}; i=$((i + 1)); done`;
}

function parseTransfers(out: string, what: string, bytes?: number): Transfer[] {
  const transfers = out
    .trim()
    .split("\n")
    .map((line) => {
      const [seconds = "", size = "", code = ""] = line.trim().split(" ");
      return { seconds: Number(seconds), bytes: Number(size), code };
    });
  for (const t of transfers) {
    if (t.code !== "200" || !(t.seconds > 0) || (bytes !== undefined && t.bytes !== bytes))
      throw new Error(
        `${what}: curl got status ${t.code}, ${t.bytes} bytes in ${t.seconds} s${bytes !== undefined ? ` (expected 200 and ${bytes} bytes)` : " (expected 200)"}`,
      );
  }
  return transfers;
}

/** Times in ms per transfer; `perSecond` is MiB/s over all transfers (not transfers/s). */
function throughputSummary(transfers: readonly Transfer[]): Summary {
  const s = summarize(transfers.map((t) => t.seconds * 1000));
  const bytes = transfers.reduce((a, t) => a + t.bytes, 0);
  const seconds = transfers.reduce((a, t) => a + t.seconds, 0);
  return { ...s, perSecond: bytes / MIB / seconds };
}

interface Alternated {
  proxy: Transfer[];
  direct: Transfer[];
}

/**
 * Runs the same measurement through the proxy and direct, `rounds` times, alternating which
 * goes first, so a machine getting busier or quieter falls on both sides alike.
 */
async function alternate(
  rounds: number,
  proxy: () => Promise<Transfer[]>,
  direct: () => Promise<Transfer[]>,
): Promise<Alternated> {
  const out: Alternated = { proxy: [], direct: [] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.proxy.push(...(await proxy()));
      out.direct.push(...(await direct()));
    } else {
      out.direct.push(...(await direct()));
      out.proxy.push(...(await proxy()));
    }
  }
  return out;
}

/** Removes the containers a `docker ps` filter matches, if any. */
async function removeContainers(filter: string): Promise<void> {
  const ids = (await run("docker", ["ps", "-aq", "--filter", filter]).catch(() => ""))
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) await run("docker", ["rm", "-f", ...ids]).catch(() => "");
}

/** Removes what the egress world and this suite labelled, whatever state a failure left. */
async function removeLabelled(tag: string): Promise<void> {
  await removeContainers(`label=wmtest=${tag}`);
  const nets = (
    await run("docker", ["network", "ls", "-q", "--filter", `label=wmtest=${tag}`]).catch(() => "")
  )
    .split("\n")
    .filter(Boolean);
  for (const n of nets) await run("docker", ["network", "rm", n]).catch(() => "");
}

/**
 * Egress under `sandbox.network.policy: deny`: a download and fresh connections from inside a
 * sandbox, through its relay and the daemon's proxy, beside the same requests from a plain
 * container on the test server's own network, against the same server in the same run.
 * Targets: throughput ≥ 0.8× direct; a fresh connection with one small request ≤ +2 ms (p50).
 *
 * Nothing here may block the event loop while the sandbox is in use: the test DNS server the
 * daemon asks answers from this process.
 */
export const egressSuite: BenchSuite = {
  name: "egress",
  async run(ctx) {
    const { home } = ctx;
    // The world's own label; the plain container below wears it too.
    const tag = `wmtest-egress-${process.pid}`;
    const plain = `${tag}-direct`;
    const worldDir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-bench-egress-"));
    let world: EgressWorld | undefined;
    let client: ChildProcess | undefined;
    const rows: BenchRow[] = [];
    try {
      world = await startEgressWorld(worldDir, BASE_IMAGE);
      const w = world;
      // The daemon asks the world's DNS server; it logs at its default level (info), so every
      // allowed connection is logged as it would be for a user.
      home.env.WM_EGRESS_DNS_SERVERS = `127.0.0.1:${w.dnsPort}`;
      home.env.WM_LOG_LEVEL = "info";
      await fs.mkdir(home.configDir, { recursive: true });
      await fs.writeFile(
        path.join(home.configDir, "config.yaml"),
        [
          "agent: demo",
          "sandbox:",
          "  network:",
          "    policy: deny",
          `    allowed_domains: ${JSON.stringify([HOST, `${HOST}:80`])}`,
          `    allow_private_ips: ${JSON.stringify([w.subnet])}`,
          "",
        ].join("\n"),
      );
      const repo = await makeRepo(path.join(home.root, "src"), ["bench"], { uid: 1000, gid: 1000 });
      const wt = repo.worktrees.bench as string;
      const ca = path.join(wt, "ca.pem");
      await fs.copyFile(w.caFile, ca);
      await fs.chmod(ca, 0o644);
      await run(process.execPath, [WM_BIN, "sandbox", "build", "--agent", "demo"], home.env);
      client = spawn(
        process.execPath,
        [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "/bin/sleep", "3600"],
        { env: home.env, stdio: "ignore" },
      );
      const { containerId } = await waitForRunningSandbox(
        home.env,
        (s) => s.name === "bench",
        60_000,
      );
      // The plain container: same base, on the server's network, the name in its /etc/hosts.
      await run("docker", [
        "run",
        "-d",
        "--name",
        plain,
        "--label",
        `wmtest=${tag}`,
        "--network",
        w.networks[0],
        "--add-host",
        `${HOST}:${w.serverIp}`,
        "-v",
        `${w.caFile}:/ca.pem:ro`,
        BASE_IMAGE,
        "sleep",
        "infinity",
      ]);
      const exec = (container: string, script: string) =>
        run("docker", ["exec", "-u", "1000:1000", container, "sh", "-c", script]);
      // Inside the sandbox curl takes HTTP(S)_PROXY from the sandbox's environment.
      const inBox = (n: number, url: string, bytes?: number) => async () =>
        parseTransfers(
          await exec(containerId, curlLoop(n, `--cacert ${ca} '${url}'`)),
          `through the proxy, ${url}`,
          bytes,
        );
      const inPlain = (n: number, url: string, bytes?: number) => async () =>
        parseTransfers(
          await exec(plain, curlLoop(n, `--cacert /ca.pem '${url}'`)),
          `direct, ${url}`,
          bytes,
        );

      // 1. Throughput: one large download per curl, each side in turn, after one unmeasured.
      const size = (ctx.quick ? 64 : 256) * MIB;
      const transfers = ctx.quick ? 2 : 5;
      for (const scheme of ["https", "http"] as const) {
        const url = `${scheme}://${HOST}/?bytes=${size}`;
        await inBox(1, url, size)();
        await inPlain(1, url, size)();
        const got = await alternate(transfers, inBox(1, url, size), inPlain(1, url, size));
        rows.push(throughputRow(scheme, size, got));
      }

      // 2. Per connection: a fresh curl, its connection (and TLS) and one small request.
      const perRound = ctx.quick ? 20 : 50;
      const rounds = ctx.quick ? 2 : 5;
      for (const scheme of ["https", "http"] as const) {
        const url = `${scheme}://${HOST}/`;
        await inBox(10, url)();
        await inPlain(10, url)();
        const got = await alternate(rounds, inBox(perRound, url), inPlain(perRound, url));
        rows.push(latencyRow(scheme, got));
      }
    } finally {
      await run(process.execPath, [WM_BIN, "sandbox", "stop", "--all"], home.env).catch(() => "");
      client?.kill("SIGKILL");
      await run(process.execPath, [WM_BIN, "daemon", "stop"], home.env).catch(() => "");
      // The plain container first: a network with a container on it cannot be removed.
      await removeContainers(`name=^${plain}$`);
      await world?.close();
      await removeLabelled(tag);
      await fs.rm(worldDir, { recursive: true, force: true });
    }
    return rows;
  },
};

const how: Readonly<Record<"https" | "http", string>> = {
  https: "HTTPS (CONNECT tunnel, TLS end to end, `curl --cacert`)",
  http: "plain HTTP (forwarded by the proxy)",
};

function throughputRow(scheme: "https" | "http", bytes: number, got: Alternated): BenchRow {
  const subject = throughputSummary(got.proxy);
  const baseline = throughputSummary(got.direct);
  const ratio = baseline.p50 / subject.p50;
  return {
    suite: "egress",
    name: `${bytes / MIB} MiB download over ${how[scheme]} from a deny sandbox through relay and proxy`,
    subject,
    baselineName: "the same download from a plain container on the server's network, no wm",
    baseline,
    ratio: subject.p50 / baseline.p50,
    target: {
      text: `throughput ≥ 0.80× direct (p50): ${ratio.toFixed(2)}×`,
      met: ratio >= 0.8,
    },
    unit: { kind: "rate", name: "MiB/s" },
  };
}

function latencyRow(scheme: "https" | "http", got: Alternated): BenchRow {
  const subject = summarize(got.proxy.map((t) => t.seconds * 1000));
  const baseline = summarize(got.direct.map((t) => t.seconds * 1000));
  const extra = subject.p50 - baseline.p50;
  return {
    suite: "egress",
    name: `fresh connection + one small request over ${how[scheme]} from a deny sandbox (curl time_total; the proxy keeps a lookup 5 s)`,
    subject,
    baselineName: "the same request from a plain container on the server's network, no wm",
    baseline,
    ratio: subject.p50 / baseline.p50,
    target: {
      text: `p50 within +2 ms of direct: ${extra >= 0 ? "+" : ""}${extra.toFixed(2)} ms`,
      met: extra <= 2,
    },
  };
}
