// The daemon under abuse: 20 live sandboxes streaming status while the daemon is killed at
// random instants, then one sandbox flooding its guest socket while another measures its
// status round trip. Prints what survived and the latency ratio against a quiet run.
import { type ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ListedSandbox,
  makeRepo,
  runCommand,
  startSandboxClient,
  WM_BIN,
} from "../../../packages/testing/src/index.ts";
import { summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

const wm = (args: string[], env: NodeJS.ProcessEnv) =>
  runCommand(process.execPath, [WM_BIN, ...args], { env });

async function listed(env: NodeJS.ProcessEnv): Promise<ListedSandbox[] | undefined> {
  const res = await wm(["sandbox", "list", "--json"], env);
  return res.code === 0 ? (JSON.parse(res.stdout).sandboxes as ListedSandbox[]) : undefined;
}

async function daemonPid(env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const res = await wm(["daemon", "status", "--json"], env);
  return res.code === 0 ? (JSON.parse(res.stdout).pid as number) : undefined;
}

/** Polls `check` until it returns a value; the elapsed time is part of what is reported. */
async function until<T>(what: string, check: () => Promise<T | undefined>, limitMs: number) {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > limitMs) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** An agent reporting status every two seconds until its worktree holds `.bench-stop`. */
const AGENT = (wt: string) =>
  `n=0; f=0; while [ ! -e ${wt}/.bench-stop ]; do wm status set working >/dev/null 2>&1 || f=$((f+1)); n=$((n+1)); sleep 2; done; echo "calls=$n failed=$f"; exit 7`;

const FLOOD = `
use IO::Socket::UNIX;
my @held;
my $body = '{"jsonrpc":"2.0","id":1,"method":"status.set","params":{"status":"working"}}';
while (1) {
  my $c = IO::Socket::UNIX->new(Peer => "/run/wm/guest.sock", Type => SOCK_STREAM) or next;
  print $c "POST /rpc HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nContent-Length: " . length($body) . "\\r\\n\\r\\n$body" if @held % 2;
  push @held, $c;
  shift @held if @held > 3000;
}`;

/** `n` status.get round trips over the guest socket, paced under the rate limit; ms each. */
const PROBE = (n: number) => `
use IO::Socket::UNIX; use Time::HiRes qw(time sleep);
my $body = '{"jsonrpc":"2.0","id":1,"method":"status.get","params":{}}';
for my $i (1..${n}) {
  my $t = time;
  my $c = IO::Socket::UNIX->new(Peer => "/run/wm/guest.sock", Type => SOCK_STREAM);
  if (!$c) { print "fail\\n"; next; }
  print $c "POST /rpc HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nContent-Length: " . length($body) . "\\r\\nConnection: close\\r\\n\\r\\n$body";
  my $r = do { local $/; <$c> };
  printf("%s\\n", ($r // "") =~ m{^HTTP/1.1 200} ? sprintf("%.3f", (time - $t) * 1000) : "fail");
  sleep 0.07;
}`;

async function probe(containerId: string, n: number, env: NodeJS.ProcessEnv) {
  const res = await runCommand("docker", ["exec", containerId, "perl", "-e", PROBE(n)], { env });
  const lines = res.stdout.trim().split("\n");
  const ok = lines.filter((l) => l !== "fail").map(Number);
  return { summary: summarize(ok), failed: lines.length - ok.length };
}

export const resilienceSuite: BenchSuite = {
  name: "resilience",
  async run(ctx) {
    const { home } = ctx;
    const env = home.env;
    const count = ctx.quick ? 6 : 20;
    const kills = ctx.quick ? 5 : 20;
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(path.join(home.configDir, "config.yaml"), "agent: demo\n");
    const branches = Array.from(
      { length: count },
      (_, i) => `resilience-${String(i + 1).padStart(2, "0")}`,
    );
    const repo = await makeRepo(path.join(home.root, "src"), branches);
    await wm(["sandbox", "build", "--agent", "demo"], env);

    const clients = branches.map((b) => {
      const wt = repo.worktrees[b] as string;
      return { branch: b, wt, client: startSandboxClient(env, wt, AGENT(wt)) };
    });
    const allAttached = async () => {
      const boxes = await listed(env);
      const live = boxes?.filter((s) => s.state === "running" && s.attached > 0);
      return live && live.length === count ? live : undefined;
    };
    const started = await until("every sandbox to start", allAttached, 180_000);
    process.stdout.write(`resilience: ${count} sandboxes running in ${started.ms} ms\n`);

    const recoveries: number[] = [];
    const answering: number[] = [];
    for (let k = 0; k < kills; k++) {
      await sleep(500 + Math.random() * 2500);
      const pid = await until("a daemon", () => daemonPid(env), 60_000);
      process.kill(pid.value, "SIGKILL");
      const t0 = Date.now();
      const next = async () => ((await daemonPid(env)) ?? pid.value) !== pid.value || undefined;
      await until("the next daemon", next, 60_000);
      answering.push(Date.now() - t0);
      await until(`every client re-attached after kill ${k + 1}`, allAttached, 120_000);
      recoveries.push(Date.now() - t0);
    }
    const recordsAfter = (await listed(env))?.length ?? 0;

    // The flood, measured against a quiet run in the same daemon.
    const [victim, attacker] = started.value;
    if (!victim || !attacker) throw new Error("need two sandboxes");
    const m = ctx.quick ? 40 : 200;
    const quiet = await probe(victim.containerId, m, env);
    const flood: ChildProcess = spawn(
      "docker",
      ["exec", attacker.containerId, "perl", "-e", FLOOD],
      {
        stdio: "ignore",
      },
    );
    await sleep(2000);
    const loud = await probe(victim.containerId, m, env);
    flood.kill("SIGKILL");
    await runCommand("docker", ["exec", attacker.containerId, "pkill", "-f", "IO::Socket"], {
      env,
    });

    await Promise.all(clients.map((c) => fs.writeFile(path.join(c.wt, ".bench-stop"), "")));
    const codes = await Promise.all(clients.map((c) => c.client.closed));
    const reported = clients.filter(
      (c, i) => codes[i] === 7 && c.client.stdout().includes("calls="),
    );
    const recordsLeft = (await listed(env))?.length ?? -1;
    const containers = await runCommand(
      "docker",
      ["ps", "-a", "--filter", "label=wm.name", "--format", '{{.Label "wm.name"}}'],
      { env },
    );
    const orphans = containers.stdout.split("\n").filter((n) => n.startsWith("resilience-")).length;

    process.stdout.write(
      [
        `resilience: ${kills} daemon kills; a new daemon answered after p50 ${summarize(answering).p50} ms; every client re-attached after p50 ${summarize(recoveries).p50} ms, max ${Math.max(...recoveries)} ms`,
        `resilience: records after the kills ${recordsAfter}/${count}; clients that got their agent's exit code ${reported.length}/${count}`,
        `resilience: records left after every agent exited ${recordsLeft}; orphan containers ${orphans}`,
        `resilience: status.get under a neighbour's flood: ${loud.failed}/${m} failed (quiet: ${quiet.failed}/${m})`,
        "",
      ].join("\n"),
    );
    await wm(["daemon", "stop"], env);
    const rows: BenchRow[] = [
      {
        suite: "resilience",
        name: "guest `status.get` round trip while another sandbox floods its socket (p99)",
        subject: loud.summary,
        baselineName: "the same calls with no flood, same daemon",
        baseline: quiet.summary,
        ratio: loud.summary.p50 / quiet.summary.p50,
      },
    ];
    return rows;
  },
};
