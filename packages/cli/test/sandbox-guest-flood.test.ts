import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ListedSandbox,
  makeSandboxHome,
  runWm,
  type SandboxHome,
  startSandboxClient,
  WM_BIN,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

/** The daemon's descriptor limit in this test: low, so the attack is quick and bounded. */
const FD_LIMIT = 1024;

/**
 * A hostile agent: opens connections to its guest socket as fast as it can and holds the
 * newest 1,500, so whatever the daemon closes is replaced at once. Prints "held" when it
 * first holds them all.
 */
const FLOOD = `
use IO::Socket::UNIX;
$| = 1;
my @held;
my $said = 0;
while (1) {
  my $c = IO::Socket::UNIX->new(Peer => "/run/wm/guest.sock", Type => SOCK_STREAM) or next;
  push @held, $c;
  shift @held if @held > 1500;
  if (!$said && @held >= 1500) { print "held\\n"; $said = 1; }
}`;

let bench: SandboxHome;
let env: NodeJS.ProcessEnv;
const floods: ChildProcess[] = [];

beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["alpha", "beta"] });
  env = bench.home.env;
}, 320_000);

afterEach(async () => {
  for (const f of floods.splice(0)) f.kill("SIGKILL");
  await runWm(["sandbox", "stop", "--all"], { env });
  await runWm(["daemon", "stop"], { env });
});

afterAll(() => bench.cleanup());

/** `wm daemon start` under a descriptor limit of FD_LIMIT (soft and hard), with `extra` env. */
async function startDaemon(extra: NodeJS.ProcessEnv = {}): Promise<number> {
  await runWm(["daemon", "stop"], { env });
  const started = await run(
    "prlimit",
    [`--nofile=${FD_LIMIT}:${FD_LIMIT}`, "--", process.execPath, WM_BIN, "daemon", "start"],
    { ...env, ...extra },
  );
  expect(started.code, started.stderr).toBe(0);
  return daemonPid();
}

async function daemonPid(): Promise<number> {
  const res = await runWm(["daemon", "status", "--json"], { env });
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout).pid as number;
}

function run(file: string, args: string[], runEnv: NodeJS.ProcessEnv = env) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env: runEnv }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

async function startLong(branch: string): Promise<ListedSandbox> {
  const client = startSandboxClient(env, bench.repo.worktrees[branch] as string, "sleep 600");
  client.child.unref();
  return waitForRunningSandbox(env, (s) => s.name === branch);
}

/** Starts the flood inside `box` and resolves once it holds all its connections. */
async function flood(box: ListedSandbox): Promise<void> {
  const child = spawn("docker", ["exec", box.containerId, "perl", "-e", FLOOD], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  floods.push(child);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("held")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the flood ended early (${code})`)));
  });
}

/** Ten status reports from inside `box`, as its agent makes them; how many failed. */
async function statusFailures(box: ListedSandbox): Promise<number> {
  const res = await run("docker", [
    "exec",
    box.containerId,
    "sh",
    "-c",
    "n=0; for i in 1 2 3 4 5 6 7 8 9 10; do wm status set working >/dev/null 2>&1 || n=$((n+1)); done; echo $n",
  ]);
  expect(res.code, res.stderr).toBe(0);
  return Number(res.stdout.trim());
}

async function fdCount(pid: number): Promise<number> {
  return (await fs.readdir(`/proc/${pid}/fd`)).length;
}

describe("a sandbox flooding its guest socket with connections", () => {
  it("control: without a per-sandbox cap it exhausts the daemon's descriptors and another sandbox's calls fail", async () => {
    const pid = await startDaemon({ WM_GUEST_MAX_CONNECTIONS: "1000000" });
    const a = await startLong("alpha");
    const b = await startLong("beta");
    expect(await statusFailures(b)).toBe(0);
    await flood(a);
    // The daemon accepts the flood's connections as fast as it can; wait until it has run out.
    while ((await fdCount(pid)) <= FD_LIMIT - 16) await sleep(50);
    expect(await statusFailures(b)).toBeGreaterThan(0);
  }, 120_000);

  it("is capped per sandbox: the daemon keeps its descriptors, another sandbox and the host are served", async () => {
    const pid = await startDaemon();
    const a = await startLong("alpha");
    const b = await startLong("beta");
    await flood(a);
    expect(await fdCount(pid)).toBeLessThan(FD_LIMIT / 2);
    expect(await statusFailures(b)).toBe(0);
    const status = await runWm(["sandbox", "list", "--json"], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(await daemonPid()).toBe(pid);
  }, 120_000);
});

describe("the daemon's descriptor limit", () => {
  it("is raised to the hard limit at start, whatever soft limit it inherited", async () => {
    await runWm(["daemon", "stop"], { env });
    const started = await run("prlimit", [
      "--nofile=256:4096",
      "--",
      process.execPath,
      WM_BIN,
      "daemon",
      "start",
    ]);
    expect(started.code, started.stderr).toBe(0);
    const limits = await fs.readFile(`/proc/${await daemonPid()}/limits`, "utf8");
    expect(limits).toMatch(/Max open files\s+4096\s+4096/);
  });
});
