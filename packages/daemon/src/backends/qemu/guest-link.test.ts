import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { DIST } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildVmBase, createOverlay, type VmBase } from "../../images/vm-disk.ts";
import { probeAccelerator } from "./accel.ts";
import { GuestLink } from "./guest-link.ts";
import type { GuestExec } from "./guest-link-process.ts";
import {
  AGENT_PORT,
  agentCommand,
  guestfwdSocket,
  prepareAgentRuntime,
} from "./guest-link-runtime.ts";
import { startVm, type VmHandle } from "./qemu.ts";
import type { Accelerator } from "./qemu-args.ts";
import { failInCiWithoutVmTools, missingVmTools, vmToolEnv } from "./vm-tools.test-support.ts";

const SHIM = path.join(DIST, "wm-shim.cjs");

function text(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      s += d;
    });
    stream.on("end", () => resolve(s));
    stream.on("error", reject);
  });
}

/** Resolves with everything read once `re` matches it. */
function waitForText(stream: Readable, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    const onData = (d: Buffer) => {
      s += d.toString("utf8");
      if (re.test(s)) {
        stream.off("data", onData);
        resolve(s);
      }
    };
    stream.on("data", onData);
    stream.on("end", () => reject(new Error(`stream ended before ${re}: ${JSON.stringify(s)}`)));
  });
}

async function run(link: GuestLink, argv: string[]) {
  const p = link.exec(argv);
  p.stdin.end();
  const [stdout, stderr, code] = await Promise.all([text(p.stdout), text(p.stderr), p.exited]);
  return { stdout, stderr, code };
}

async function separateStreams(link: GuestLink): Promise<void> {
  expect(await run(link, ["sh", "-c", "echo out; echo err >&2; exit 3"])).toEqual({
    stdout: "out\n",
    stderr: "err\n",
    code: 3,
  });
}

async function terminal(link: GuestLink): Promise<void> {
  const p = link.exec(["sh", "-c", "tty; stty size; read x; stty size"], {
    tty: { rows: 33, cols: 101 },
  });
  const first = await waitForText(p.stdout, /^33 101\r?$/m);
  expect(first).toMatch(/^\/dev\/pts\/\d+\r?$/m);
  p.resize(40, 120);
  p.stdin.write("go\n");
  const rest = text(p.stdout);
  expect(await p.exited).toBe(0);
  expect(await rest).toMatch(/^40 120\r?$/m);
}

async function stdinToEof(link: GuestLink): Promise<void> {
  const input = randomBytes(1 << 20);
  const p = link.exec(["cat"]);
  const hash = createHash("sha256");
  let length = 0;
  p.stdout.on("data", (d: Buffer) => {
    hash.update(d);
    length += d.length;
  });
  p.stdin.end(input);
  expect(await p.exited).toBe(0);
  expect(length).toBe(input.length);
  expect(hash.digest("hex")).toBe(createHash("sha256").update(input).digest("hex"));
}

/** A process that records SIGHUP in `marker`; the agent hangs up its processes with the link. */
async function startHangupWatcher(link: GuestLink, marker: string): Promise<GuestExec> {
  const p = link.exec([
    "sh",
    "-c",
    `trap 'echo hup > ${marker}; exit 129' HUP; sleep 1000 & echo started; wait`,
  ]);
  await waitForText(p.stdout, /started/);
  return p;
}

/** Waits (in the guest, up to 30 s) for a trap to have written `marker`, and reads it. */
async function marker(link: GuestLink, file: string): Promise<string> {
  const check = `i=0; while [ ! -s ${file} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; cat ${file}`;
  return (await run(link, ["sh", "-c", check])).stdout;
}

async function expectHangup(link: GuestLink, file: string): Promise<void> {
  // The agent signals before it reconnects; the trap may still be writing the file.
  expect(await marker(link, file)).toBe("hup\n");
}

/** The daemon's end goes away and comes back on the same socket; the agent connects again. */
async function restartLink(link: GuestLink, socketPath: string, marker: string) {
  const p = await startHangupWatcher(link, marker);
  const lost = expect(p.exited).rejects.toThrow(/link to the guest agent broke/);
  await link.close();
  await lost;
  const t0 = Date.now();
  const next = await GuestLink.listen(socketPath);
  await next.waitForAgent(60_000);
  console.log(
    `agent back ${((Date.now() - t0) / 1000).toFixed(1)} s after the link listened again`,
  );
  await separateStreams(next);
  await expectHangup(next, marker);
  return next;
}

describe("guest agent link (agent on this host, over a Unix socket)", () => {
  let tmp: string;
  let link: GuestLink;
  let agent: ChildProcess;
  let sock: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "wm-link-"));
    sock = path.join(tmp, "agent.sock");
    link = await GuestLink.listen(sock);
    agent = spawn(process.execPath, [SHIM, "agent", "--connect", `unix:${sock}`], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const hello = await link.waitForAgent(30_000);
    expect(hello).toMatchObject({ type: "hello", link: 1, pty: "node-pty" });
  });

  afterAll(async () => {
    agent?.kill("SIGKILL");
    await link?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("keeps stdout and stderr apart and returns the exit code", () => separateStreams(link));
  it("runs a command on a terminal of the asked size and resizes it", () => terminal(link));
  it("passes stdin through to its end (1 MiB through cat)", () => stdinToEof(link));

  it("signals the whole process group: exit code 128+N, children get it too", async () => {
    const p = link.exec(["sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!; wait"]);
    const child = (await waitForText(p.stdout, /^\d+\n/)).trim();
    p.signal("SIGTERM");
    expect(await p.exited).toBe(143);
    // Gone or a zombie (its parent has exited too): up to 30 s for it to get there.
    const gone = `p=${child}; i=0; while [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; if [ $i -lt 300 ]; then echo gone; else echo alive; fi`;
    expect((await run(link, ["sh", "-c", gone])).stdout).toBe("gone\n");
  });

  it("reports a command that is not there with 127 and the reason", async () => {
    const p = link.exec(["/no/such/command"]);
    expect(await p.exited).toBe(127);
    expect(p.error).toContain("ENOENT");
  });

  it("pauses a process's output while the host does not read it, and loses nothing", async () => {
    const total = 32 << 20;
    const p = link.exec(["head", "-c", String(total), "/dev/zero"]);
    await once(p.stdout, "pause-request");
    // Messages are ordered: once a later exec has exited, the agent has paused the output and
    // everything it sent before is here. Nothing more may arrive until we read.
    await run(link, ["true"]);
    const buffered = p.stdout.readableLength;
    await run(link, ["true"]);
    expect(p.stdout.readableLength).toBe(buffered);
    expect(buffered).toBeLessThan(total / 4);
    let length = 0;
    p.stdout.on("data", (d: Buffer) => {
      length += d.length;
    });
    expect(await p.exited).toBe(0);
    expect(length).toBe(total);
  });

  it("listens on a guest socket: each connection is a channel both ways, and a signal closes the listener", async () => {
    const guestSock = path.join(tmp, "guest-endpoint.sock");
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const conns: GuestExec[] = [];
    const listener = link.listen(guestSock, { uid, gid }, (conn) => {
      conns.push(conn);
      // An echo server on the host side, upper-casing what the guest client sent.
      conn.stdout.on("data", (d: Buffer) => conn.stdin.write(d.toString().toUpperCase()));
      conn.stdout.on("end", () => conn.stdin.end());
    });
    await listener.started;
    expect(((await stat(guestSock)).mode & 0o777).toString(8)).toBe("600");
    const talk = (msg: string) =>
      new Promise<string>((resolve, reject) => {
        const c = net.connect(guestSock, () => c.end(msg));
        let got = "";
        c.on("data", (d) => {
          got += d;
        });
        c.on("close", () => resolve(got));
        c.on("error", reject);
      });
    expect(await Promise.all([talk("one"), talk("two")])).toEqual(["ONE", "TWO"]);
    expect(conns).toHaveLength(2);
    listener.signal("SIGTERM");
    expect(await listener.exited).toBe(0);
    await expect(talk("three")).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });

  it("reconnects when the daemon's end goes away and comes back; its processes get SIGHUP", async () => {
    link = await restartLink(link, sock, path.join(tmp, "hup"));
  });
});

const env = vmToolEnv;
const missing = missingVmTools;

failInCiWithoutVmTools();

describe.runIf(missing.length === 0)("guest agent link in a QEMU VM", () => {
  let base: VmBase;
  let accel: Accelerator;
  let tmp: string;
  let link: GuestLink;
  let vm: VmHandle | undefined;
  let socketPath: string;

  beforeAll(async () => {
    base = await buildVmBase({ env });
    accel = (
      await probeAccelerator({ kernel: base.kernel, initrd: base.initrd, env, deadlineMs: 15_000 })
    ).accel;
    tmp = await mkdtemp(path.join(os.tmpdir(), "wm-vml-"));
    const runtime = await prepareAgentRuntime({ stateDir: tmp, shimBundle: SHIM });
    expect(runtime.pty).toBe(true);
    const dir = path.join(tmp, "vm");
    await mkdir(dir);
    const disk = path.join(dir, "root.qcow2");
    await createOverlay(base, disk, env);
    socketPath = path.join(dir, "agent.sock");
    link = await GuestLink.listen(socketPath); // QEMU connects to it once, at its start
    const t0 = Date.now();
    vm = await startVm(
      {
        dir,
        name: "agent",
        cpus: 2,
        memoryMiB: 512,
        kernel: base.kernel,
        initrd: base.initrd,
        disk,
        shares: [runtime.share],
        command: agentCommand(),
        network: { guestfwd: { port: AGENT_PORT, socketPath: guestfwdSocket(socketPath) } },
      },
      accel,
      env,
    );
    const hello = await link.waitForAgent(150_000);
    const helloAt = ((Date.now() - t0) / 1000).toFixed(1);
    const ready = await vm.waitForSerial(/^WM-READY ([\d.]+)/m, 1_000);
    // One more node start in the guest, with the runtime's files read once already.
    const nodeStart = await run(link, [
      "sh",
      "-c",
      "read a _ < /proc/uptime; /opt/wm/bin/wm --version >/dev/null; read b _ < /proc/uptime; echo $a $b",
    ]);
    const [a, b] = nodeStart.stdout.trim().split(" ").map(Number) as [number, number];
    console.log(
      `boot to agent hello (${accel}): ${helloAt} s from QEMU start; guest init done at ${ready[1]} s of kernel uptime; a second node start in the guest takes ${(b - a).toFixed(1)} s; ${JSON.stringify(hello)}`,
    );
    expect(hello.pty).toBe("node-pty");
  }, 240_000);

  afterAll(async () => {
    if (vm) {
      try {
        process.kill(vm.pid, "SIGKILL");
      } catch {}
    }
    await link?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("keeps stdout and stderr apart and returns the exit code", () => separateStreams(link));
  it("runs a command on a terminal of the asked size and resizes it", () => terminal(link));
  it("passes stdin through to its end (1 MiB through cat)", () => stdinToEof(link), 120_000);

  it("reconnects through QEMU when the daemon's end restarts; its processes get SIGHUP", async () => {
    link = await restartLink(link, socketPath, "/tmp/hup");
  }, 120_000);

  it("loses the agent when the VM stops", async () => {
    const gone = once(link, "disconnect");
    expect(await vm?.stop(60_000)).toBe("powerdown");
    await gone;
    expect(link.hello).toBeUndefined();
    vm = undefined;
  }, 90_000);
});
