import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "@wm/protocol/version";
import {
  makeSandboxHome,
  runWm,
  type SandboxHome,
  WM_BIN,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Every case runs a real host command from inside a real container, through the real daemon.
// `sh`, `cat`, `sha256sum`, `true` and `false` are host commands here, so inside the container
// a bare `sh` or `cat` runs on the host; the container's own are called by full path.
const CONFIG = 'agent: demo\nsandbox:\n  host_commands: [cat, sh, sha256sum, "true", "false"]\n';
const GIB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

let bench: SandboxHome;
let cid: string;
let sandboxId: string;
let wt: string;
let sandboxClient: ChildProcess;
const server = `wmhx-${process.pid}`;
const bigFile = () => path.join(wt, "big.bin");
/**
 * Where host children leave their marks: a directory anyone may write, since the worktree
 * belongs to uid 1000 and host children here run as another user (these tests run as root,
 * and inside the fence root has no capabilities).
 */
const outDir = () => path.join(wt, "out");
let bigHash = "";

/** A marker unique to this run, for finding host processes by their argv. */
const marker = () => String(3_000_000 + Math.floor(Math.random() * 6_000_000));

function inBox(script: string, input?: Buffer) {
  return spawnSync(
    "docker",
    ["exec", "-i", "-u", "1000:1000", "-w", wt, cid, "/bin/sh", "-c", script],
    { input, maxBuffer: 64 * MiB },
  );
}

/** The same, in the background: resolves with its exit code, output collected. */
function inBoxAsync(script: string) {
  const child = spawn("docker", [
    "exec",
    "-u",
    "1000:1000",
    "-w",
    wt,
    cid,
    "/bin/sh",
    "-c",
    script,
  ]);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, closed, stdout: () => out, stderr: () => err };
}

/** Host processes whose whole command line matches `regex` exactly (never the container's client). */
function hostPids(regex: string): number[] {
  const r = spawnSync("pgrep", ["-x", "-f", regex], { encoding: "utf8" });
  return r.stdout.trim().split("\n").filter(Boolean).map(Number);
}

/** Polls until `probe` gives a value; no deadline of its own: vitest's per-test timeout is the backstop. */
async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>) {
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    await sleep(50);
  }
}

const fileText = (p: string) => fs.readFile(p, "utf8").catch(() => "");
const gone = (regex: string) => until(() => hostPids(regex).length === 0);

function daemonPid(): number {
  return (JSON.parse(readFileSync(bench.home.registrationFile, "utf8")) as { pid: number }).pid;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN);
}

function tmux(...args: string[]): string {
  const conf = path.join(bench.home.root, "tmux.conf");
  return execFileSync("tmux", ["-L", server, "-f", conf, ...args], { encoding: "utf8" });
}

/** `docker exec -it … SCRIPT` in a real terminal (a tmux pane of 100×30); the exit code lands in a worktree file. */
function inTerminal(script: string, codeFile: string): void {
  try {
    tmux("kill-session", "-t", "t");
  } catch {}
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const inner = `${script}; echo $? > ${codeFile}`;
  tmux(
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    "100",
    "-y",
    "30",
    `docker exec -it -u 1000:1000 -w ${q(wt)} ${cid} /bin/sh -c ${q(inner)}; sleep 600`,
  );
}

function paneSize(): string {
  return tmux("display-message", "-p", "-t", "t", "#{pane_height} #{pane_width}").trim();
}

beforeAll(async () => {
  bench = await makeSandboxHome({ config: CONFIG, branches: ["alpha"] });
  wt = bench.repo.worktrees.alpha as string;
  // The container's own sleep, by full path: `sh` would be a host command.
  sandboxClient = spawn(
    process.execPath,
    [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "/bin/sleep", "3600"],
    { env: bench.home.env, stdio: "ignore" },
  );
  const s = await waitForRunningSandbox(bench.home.env, (x) => x.name === "alpha");
  cid = s.containerId;
  sandboxId = s.id;
  // No status line: the pane is the whole window, so its size is known before the child starts.
  await fs.writeFile(path.join(bench.home.root, "tmux.conf"), "set -g status off\n");
  await fs.mkdir(outDir(), { mode: 0o777 });
  await fs.chmod(outDir(), 0o777);
  // 1 GiB of random bytes in the worktree, which both sides see at the same path.
  const hash = createHash("sha256");
  const fh = await fs.open(bigFile(), "w");
  for (let done = 0; done < GIB; done += 16 * MiB) {
    const chunk = randomBytes(16 * MiB);
    hash.update(chunk);
    await fh.write(chunk);
  }
  await fh.close();
  bigHash = hash.digest("hex");
}, 320_000);

afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {}
  sandboxClient?.kill("SIGKILL");
  await fs.rm(bigFile(), { force: true }).catch(() => undefined);
  await bench?.cleanup();
});

describe("host commands: bytes", () => {
  it("carries 1 GiB of stdout and 100 MB of stdin intact", () => {
    const out = inBox(`cat ${bigFile()} | /usr/bin/sha256sum`);
    expect(out.status, out.stderr.toString()).toBe(0);
    expect(out.stdout.toString().split(" ")[0]).toBe(bigHash);

    const r = inBox(
      "/usr/bin/head -c 100000000 /dev/urandom > /tmp/in.bin && /usr/bin/sha256sum < /tmp/in.bin && /bin/cat /tmp/in.bin | sha256sum && /bin/cat /tmp/in.bin | cat | /usr/bin/sha256sum; rc=$?; /bin/rm -f /tmp/in.bin; exit $rc",
    );
    expect(r.status, r.stderr.toString()).toBe(0);
    const sums = r.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[0]);
    expect(sums).toHaveLength(3);
    expect(new Set(sums).size).toBe(1);
  }, 180_000);

  it("keeps interleaved stdout and stderr apart, each in order", () => {
    const r = inBox(
      `sh -c 'for i in $(seq 1 200); do echo out$i; echo err$i >&2; done' >/tmp/o 2>/tmp/e; rc=$?; /bin/cat /tmp/o; /bin/cat /tmp/e >&2; exit $rc`,
    );
    expect(r.status).toBe(0);
    const lines = (p: string) => Array.from({ length: 200 }, (_, i) => `${p}${i + 1}\n`).join("");
    expect(r.stdout.toString()).toBe(lines("out"));
    expect(r.stderr.toString()).toBe(lines("err"));
  });

  it("a stalled reader blocks the host child and the daemon's memory stays bounded", async () => {
    const pid = daemonPid();
    const startRss = rssKiB(pid);
    const t0 = Date.now();
    const run = inBoxAsync(`cat ${bigFile()} | /bin/sh -c '/bin/sleep 5; /bin/cat >/dev/null'`);
    const hostCat = `\\S*/cat ${bigFile()}`;
    let ended = false;
    void run.closed.then(() => {
      ended = true;
    });
    const stall: number[] = [];
    const after: number[] = [];
    let readDuringStall = 0;
    while (!ended) {
      const rss = rssKiB(pid);
      // The reader starts its `sleep 5` after this test spawned it: until then it reads nothing.
      const stalled = Date.now() - t0 < 5000;
      (stalled ? stall : after).push(rss);
      if (stalled) {
        for (const p of hostPids(hostCat)) {
          const pos = await fileOffset(p, bigFile());
          if (pos !== undefined) readDuringStall = Math.max(readDuringStall, pos);
        }
      }
      await sleep(100);
    }
    expect(await run.closed, run.stderr()).toBe(0);
    const max = (xs: number[]) => Math.max(...xs);
    console.log(
      `daemon RSS: start ${(startRss / 1024).toFixed(1)} MiB, max while stalled ${(max(stall) / 1024).toFixed(1)} MiB (${stall.length} samples), max after ${(max(after) / 1024).toFixed(1)} MiB (${after.length} samples); host cat read at most ${(readDuringStall / MiB).toFixed(1)} MiB of 1024 while stalled`,
    );
    expect(max(stall) - startRss).toBeLessThan(64 * 1024);
    expect(max(after) - startRss).toBeLessThan(64 * 1024);
    expect(readDuringStall).toBeLessThan(64 * MiB);
  }, 180_000);
});

/** How far host process `pid` has read `file`, from /proc/PID/fdinfo. */
async function fileOffset(pid: number, file: string): Promise<number | undefined> {
  const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    if (target !== file) continue;
    const info = await fileText(`/proc/${pid}/fdinfo/${fd}`);
    const m = /^pos:\s+(\d+)/m.exec(info);
    if (m) return Number(m[1]);
  }
  return undefined;
}

describe("host commands: exit codes and signals", () => {
  it("passes exit codes through: 0, 1, 42, and 128+n for a signal", () => {
    const r = inBox(
      `true; echo $?; false; echo $?; sh -c 'exit 42'; echo $?; sh -c 'kill -TERM $$'; echo $?; sh -c 'kill -KILL $$'; echo $?`,
    );
    expect(r.stdout.toString().trim().split("\n")).toEqual(["0", "1", "42", "143", "137"]);
  });

  it("Ctrl-C at a terminal ends the host child with 130", async () => {
    const m = marker();
    const code = path.join(outDir(), `rc-${m}`);
    inTerminal(`sh -c 'echo ready-${m}; sleep ${m}; echo after'`, code);
    await until(() => hostPids(`sleep ${m}`).length > 0);
    await until(() => tmux("capture-pane", "-p", "-t", "t").includes(`ready-${m}`));
    tmux("send-keys", "-t", "t", "C-c");
    const rc = await until(async () => (await fileText(code)).trim() || undefined);
    expect(Number(rc)).toBe(130);
    await gone(`sleep ${m}`);
  }, 60_000);

  it("Ctrl-C at a terminal reaches a host child that handles it", async () => {
    const m = marker();
    const f = (name: string) => path.join(outDir(), `${name}-${m}`);
    inTerminal(
      `sh -c 'trap "echo caught > ${f("int")}; exit 9" INT; echo > ${f("ready")}; while :; do sleep 0.1; done'`,
      f("rc"),
    );
    await until(async () => (await fileText(f("ready"))) !== "" || undefined);
    tmux("send-keys", "-t", "t", "C-c");
    const rc = await until(async () => (await fileText(f("rc"))).trim() || undefined);
    expect(await fileText(f("int"))).toBe("caught\n");
    expect(Number(rc)).toBe(9);
  }, 60_000);

  it("SIGTERM to the in-sandbox client reaches the host child", async () => {
    const m = marker();
    const log = path.join(outDir(), `term-${m}.log`);
    const ready = path.join(outDir(), `ready-${m}`);
    const run = inBoxAsync(
      `echo $$ > /tmp/client-${m}.pid; exec sh -c 'trap "echo got-term >> ${log}; exit 7" TERM; echo > ${ready}; while :; do sleep 0.1; done'`,
    );
    await until(async () => (await fileText(ready)) !== "" || undefined);
    const k = inBox(`kill -TERM $(/bin/cat /tmp/client-${m}.pid)`);
    expect(k.status, k.stderr.toString()).toBe(0);
    expect(await run.closed, run.stderr()).toBe(7);
    expect(await fileText(log)).toBe("got-term\n");
  }, 60_000);
});

describe("host commands: terminals", () => {
  it("without a terminal the host child has pipes", () => {
    const r = inBox(
      `sh -c 'if [ -t 0 ] || [ -t 1 ] || [ -t 2 ]; then echo tty; else echo pipes; fi'`,
    );
    expect(r.stdout.toString()).toBe("pipes\n");
  });

  it("with a terminal it has one of the pane's size, and sees a resize", async () => {
    const m = marker();
    const f = (name: string) => path.join(outDir(), `${name}-${m}`);
    inTerminal(
      `sh -c 'if [ -t 0 ] && [ -t 1 ]; then echo tty > ${f("t")}; fi; stty size > ${f("size1")}; trap "stty size > ${f("size2")}" WINCH; echo > ${f("ready")}; while :; do sleep 0.1; done'`,
      f("rc"),
    );
    await until(async () => (await fileText(f("ready"))) !== "" || undefined);
    expect(await fileText(f("t"))).toBe("tty\n");
    expect((await fileText(f("size1"))).trim()).toBe(paneSize());
    tmux("resize-window", "-t", "t", "-x", "120", "-y", "40");
    const resized = paneSize();
    expect(resized).toBe("40 120");
    // The WINCH must reach the running child, which then writes its new size.
    await until(async () => (await fileText(f("size2"))).trim() === resized);
    tmux("send-keys", "-t", "t", "C-c");
    await until(async () => (await fileText(f("rc"))) !== "" || undefined);
  }, 60_000);
});

/** Sends one raw start message to the sandbox's `/exec` from inside it, as any process there could. */
function rawStart(start: unknown): { end: unknown; output: string } {
  const script = `
    const fs = require("fs"), http = require("http"), crypto = require("crypto");
    const ep = JSON.parse(fs.readFileSync("/run/wm/endpoint.json", "utf8"));
    const headers = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13",
      "sec-websocket-key": crypto.randomBytes(16).toString("base64"), ${JSON.stringify(PROTOCOL_HEADER)}: "${PROTOCOL_VERSION}" };
    const opts = { path: "/exec", headers };
    if (ep.transport === "tcp") {
      Object.assign(opts, { host: ep.host, port: ep.port });
      headers.authorization = "Bearer " + fs.readFileSync("/run/wm/token", "utf8").trim();
    } else Object.assign(opts, { socketPath: "/run/wm/" + (ep.socket || "guest.sock") });
    const req = http.request(opts);
    req.on("response", (res) => { console.log(JSON.stringify({ httpStatus: res.statusCode })); process.exit(0); });
    req.on("upgrade", (res, sock, head) => {
      const payload = Buffer.from(process.argv[1]);
      const len = payload.length < 126 ? Buffer.from([0x80 | payload.length])
        : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 255]);
      // Masked with a zero key: the payload goes as it is.
      sock.write(Buffer.concat([Buffer.from([0x81]), len, Buffer.alloc(4), payload]));
      let buf = head, output = "";
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2) {
          const op = buf[0] & 15; let n = buf[1] & 127, at = 2;
          if (n === 126) { n = buf.readUInt16BE(2); at = 4; } else if (n === 127) { n = Number(buf.readBigUInt64BE(2)); at = 10; }
          if (buf.length < at + n) return;
          const body = buf.subarray(at, at + n); buf = buf.subarray(at + n);
          if (op === 2) output += body.subarray(1).toString();
          if (op === 1) { console.log(JSON.stringify({ end: JSON.parse(body.toString()), output })); process.exit(0); }
          if (op === 8) { console.log(JSON.stringify({ end: null, output })); process.exit(0); }
        }
      });
    });
    req.end();`;
  const out = execFileSync(
    "docker",
    ["exec", "-u", "1000:1000", "-w", wt, cid]
      .concat(["/opt/wm/lib/ld-linux-x86-64.so.2", "--library-path", "/opt/wm/lib", "/opt/wm/node"])
      .concat(["-e", script, JSON.stringify(start)]),
    { encoding: "utf8" },
  );
  return JSON.parse(out);
}

describe("host commands: refusals", () => {
  it("refuses a name that is not listed, naming the config file and key", () => {
    const r = inBox("wm host-exec ls");
    expect(r.status).toBe(127);
    const err = r.stderr.toString();
    expect(err).toContain("sandbox.host_commands");
    expect(err).toContain(path.join(bench.home.configDir, "config.yaml"));
  });

  it("refuses paths as names", () => {
    for (const name of ["../x", "a/b", "/usr/bin/cat"]) {
      const r = inBox(`wm host-exec ${name} </dev/null`);
      expect(r.status, name).toBe(127);
      expect(r.stderr.toString(), name).toContain("is not a command name");
    }
  });

  it("refuses a working directory outside the worktree, also through a link", async () => {
    const out = inBox("cd /tmp && cat </dev/null");
    expect(out.status).toBe(126);
    expect(out.stderr.toString()).toContain("outside this sandbox's worktree");
    await fs.symlink("/etc", path.join(wt, "etc-link"));
    try {
      const via = inBox(`cd ${path.join(wt, "etc-link")} && cat </dev/null`);
      expect(via.status).toBe(126);
      expect(via.stderr.toString()).toContain("cwd /etc is outside this sandbox's worktree");
      // A client that sends the link itself as its cwd: the daemon resolves it and refuses.
      const raw = rawStart({
        argv: ["true"],
        cwd: path.join(wt, "etc-link"),
        env: {},
        tty: null,
      }) as {
        end: { error: { message: string; data: { exitCode: number } } };
      };
      expect(raw.end.error.message).toContain("resolves to /etc");
      expect(raw.end.error.data.exitCode).toBe(126);
      // Control: a directory inside the worktree is fine.
      await fs.mkdir(path.join(wt, "sub"), { recursive: true });
      expect(inBox(`cd ${path.join(wt, "sub")} && cat </dev/null`).status).toBe(0);
    } finally {
      await fs.rm(path.join(wt, "etc-link"));
    }
  });

  it("never passes LD_PRELOAD, NODE_OPTIONS or GIT_DIR from the sandbox", () => {
    const r = inBox(
      `LD_PRELOAD=/nonexistent.so NODE_OPTIONS=--no-warnings GIT_DIR=/x sh -c 'echo "[$LD_PRELOAD][$NODE_OPTIONS][$GIT_DIR]"' 2>/dev/null`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe("[][][]\n");
    // Control: a raw client that sends only accepted variables runs the command.
    const control = rawStart({
      argv: ["sh", "-c", "echo $TERM"],
      cwd: wt,
      env: { TERM: "dumb" },
      tty: null,
    });
    expect(control).toEqual({ end: { exit: { code: 0, signal: null } }, output: "dumb\n" });
    for (const name of ["LD_PRELOAD", "NODE_OPTIONS", "GIT_DIR"]) {
      const raw = rawStart({
        argv: ["sh", "-c", "echo ran"],
        cwd: wt,
        env: { TERM: "dumb", [name]: "/tmp/x" },
        tty: null,
      }) as { end: { error: { message: string; data: { exitCode: number } } }; output: string };
      expect(raw.output, name).toBe("");
      expect(raw.end.error.message, name).toContain(name);
      expect(raw.end.error.data.exitCode, name).toBe(126);
    }
  });
});

describe("host commands: the audit line", () => {
  it("logs one line per call with sandbox, command, argv, cwd, exit, duration and bytes", async () => {
    const m = marker();
    const r = inBox(`sh -c 'echo audit-${m}; exit 3'`);
    expect(r.status).toBe(3);
    const lines = await until<string[]>(async () => {
      const lines = (await fileText(bench.home.logFile))
        .split("\n")
        .filter((l) => l.includes(`audit-${m}`) && l.includes('"host exec"'));
      return lines.length > 0 ? lines : undefined;
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({
      msg: "host exec",
      command: "sh",
      argv: ["sh", "-c", `echo audit-${m}; exit 3`],
      cwd: await fs.realpath(wt),
      exit: 3,
      bytesIn: 0,
      bytesOut: `audit-${m}\n`.length,
      bytesErr: 0,
    });
    expect(line.sandbox).toBe(sandboxId);
    expect(typeof line.durationMs).toBe("number");
  });
});

describe("host commands: no orphans", () => {
  /** A host child that outlives its own `sleep` only if nothing kills it: `sh` does not exec it. */
  function startSleeper(m: string) {
    const run = inBoxAsync(`echo $$ > /tmp/client-${m}.pid; exec sh -c 'sleep ${m}; echo woke'`);
    return run;
  }

  it("kill -9 of the in-sandbox client", async () => {
    const m = marker();
    const run = startSleeper(m);
    await until(() => hostPids(`sleep ${m}`).length > 0);
    inBox(`kill -KILL $(/bin/cat /tmp/client-${m}.pid)`);
    await run.closed;
    await gone(`sleep ${m}`);
  }, 60_000);

  it("kill -9 of the daemon", async () => {
    const m = marker();
    const run = startSleeper(m);
    await until(() => hostPids(`sleep ${m}`).length > 0);
    process.kill(daemonPid(), "SIGKILL");
    await gone(`sleep ${m}`);
    await run.closed;
    // The next call starts a daemon again, which takes the sandbox back.
    await waitForRunningSandbox(bench.home.env, (x) => x.name === "alpha");
    await until(() => inBox("true").status === 0);
  }, 90_000);

  it("wm sandbox stop", async () => {
    const m = marker();
    const run = startSleeper(m);
    await until(() => hostPids(`sleep ${m}`).length > 0);
    const stop = await runWm(["sandbox", "stop", "alpha"], {
      env: bench.home.env,
      timeoutMs: 60_000,
    });
    expect(stop.code, stop.stderr).toBe(0);
    await gone(`sleep ${m}`);
    await run.closed;
  }, 90_000);
});
