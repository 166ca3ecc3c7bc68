/*
 * Contract tests of the Lima sandbox backend (`sandbox.lima.driver: limactl`). Lima cannot be
 * installed on the machines wm is developed on, so `limactl` here is a stand-in
 * (fake-limactl.test-support.ts) that records the argv wm sends, answers in the shapes of Lima
 * v2.2.0's source, and runs `limactl shell` commands on this machine as if it were the guest.
 * They pin the calls wm makes, the instance it asks for and what it refuses; they do not prove
 * a real Lima VM isolates anything.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { RpcError } from "@wm/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { SandboxLaunch } from "../sandbox-backend.ts";
import type { MountSpec } from "../types.ts";
import { type FakeLimactl, makeFakeLimactl } from "./fake-limactl.test-support.ts";
import { limaInstanceName } from "./lima-mounts.ts";
import { type LimaSandboxBackend, limaSandboxBackend } from "./lima-sandbox.ts";

let fake: FakeLimactl | undefined;
let tmp: string | undefined;
let made: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of made) await cleanup();
  made = [];
  await fake?.remove();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  fake = undefined;
  tmp = undefined;
});

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

interface Setup {
  /** The first sandbox's name; others add -2, -3. */
  name: string;
  backend: LimaSandboxBackend;
  fake: FakeLimactl;
  worktree: string;
  commonDir: string;
  runDir: string;
  instance: string;
  launch(over?: Partial<SandboxLaunch>): SandboxLaunch;
}

async function setup(fakeEnv: Record<string, string> = {}): Promise<Setup> {
  tmp = await mkdtemp(path.join(tmpdir(), "wm-lima-sb-"));
  fake = await makeFakeLimactl(fakeEnv);
  const worktree = path.join(tmp, "demo__worktrees", "feature");
  const commonDir = path.join(tmp, "demo", ".git");
  await mkdir(worktree, { recursive: true });
  await mkdir(commonDir, { recursive: true });
  const runDir = path.join(tmp, "run");
  const backend = limaSandboxBackend({
    limactlPath: fake.bin,
    env: fake.env,
    runDir,
    hostUid: uid,
    vm: { image: { location: "https://example.invalid/debian.qcow2" }, cpus: 2, memory: "2GiB" },
  });
  const f = fake;
  // Guest pid files go to /tmp (this machine is the guest here): names unique to this run.
  const name = `wm-feature-${randomBytes(4).toString("hex")}`;
  const create = backend.create.bind(backend);
  backend.create = async (launch) => {
    const h = await create(launch);
    made.push(() => backend.remove(h));
    return h;
  };
  return {
    name,
    backend,
    fake: f,
    worktree,
    commonDir,
    runDir,
    instance: limaInstanceName(commonDir),
    launch: (over = {}) => ({
      name,
      image: "wm-sandbox:claude",
      user: { uid, gid },
      workdir: worktree,
      command: ["/bin/sh", "-c", "true"],
      env: {},
      mounts: [
        { source: worktree, target: worktree, readOnly: false },
        { source: commonDir, target: commonDir, readOnly: true },
      ],
      labels: {
        "wm.owner": String(uid),
        "wm.sandbox": "sb-000000000001",
        "wm.git.common": commonDir,
      },
      terminal: { tty: false, stdin: false },
      limits: { pids: 512 },
      ...over,
    }),
  };
}

function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)));
  return new Promise((resolve) =>
    stream.on("end", () => resolve(Buffer.concat(chunks).toString())),
  );
}

function firstOutput(stream: Readable, text: string): Promise<void> {
  let seen = "";
  return new Promise((resolve) => {
    stream.on("data", (c: Buffer) => {
      seen += c.toString();
      if (seen.includes(text)) resolve();
    });
  });
}

async function refusal(p: Promise<unknown>): Promise<RpcError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RpcError);
  return err as RpcError;
}

describe("LimaSandboxBackend (contract)", () => {
  it("creates the repository's instance with the launch's mounts, runs the command, returns its exit code", async () => {
    const s = await setup();
    const launch = s.launch({
      command: ["/bin/sh", "-c", 'echo "out-$FOO"; echo err >&2; pwd; exit 7'],
      env: { FOO: "it's secret" },
    });
    const handle = await s.backend.create(launch);
    const streams = await s.backend.attach(handle, { tty: false, stdin: false });
    const [out, err] = [readAll(streams.stdout), readAll(streams.stderr)];
    await s.backend.start(handle);
    expect(await s.backend.wait(handle)).toBe(7);
    expect(await out).toBe(`out-it's secret\n${s.worktree}\n`);
    expect(await err).toBe("err\n");
    expect(await s.backend.inspect(handle)).toMatchObject({ running: false, exitCode: 7 });

    const calls = await s.fake.calls();
    expect(calls.map((c) => c.argv[0])).toEqual(["list", "create", "list", "start", "shell"]);
    const runDir = path.join(s.runDir, s.instance);
    expect(parse(calls[1]?.yaml ?? "").mounts).toEqual([
      { location: s.worktree, mountPoint: s.worktree, writable: true },
      { location: s.commonDir, mountPoint: s.commonDir, writable: false },
      { location: runDir, mountPoint: runDir, writable: false },
    ]);
    const shell = calls[4]?.argv ?? [];
    expect(shell.slice(0, 6)).toEqual([
      "shell",
      "--tty=false",
      "--workdir",
      s.worktree,
      s.instance,
      "--",
    ]);
    expect(shell.slice(-3)).toEqual(launch.command);
    // The environment travels in a file, never on limactl's (ssh's) command line.
    expect(shell.join(" ")).not.toContain("secret");
  });

  it("reuses the running instance for a launch with the same mounts", async () => {
    const s = await setup();
    const a = await s.backend.create(s.launch());
    await s.backend.start(a);
    await s.backend.wait(a);
    await s.backend.remove(a);
    const before = (await s.fake.calls()).length;
    const b = await s.backend.create(s.launch({ name: `${s.name}-2` }));
    await s.backend.start(b);
    expect(await s.backend.wait(b)).toBe(0);
    const after = (await s.fake.calls()).slice(before).map((c) => c.argv[0]);
    expect(after).toEqual(["list", "shell"]);
  });

  it("starts a stopped instance before running in it", async () => {
    const s = await setup();
    await s.backend.create(s.launch());
    const limactlStop = (await import("./limactl.ts")).Limactl;
    await new limactlStop({ path: s.fake.bin, env: s.fake.env }).stop(s.instance);
    const h = await s.backend.create(s.launch({ name: `${s.name}-3` }));
    const tail = (await s.fake.calls()).slice(-2).map((c) => c.argv);
    expect(tail).toEqual([
      ["list", "--json"],
      ["start", "--tty=false", s.instance],
    ]);
    await s.backend.start(h);
    expect(await s.backend.wait(h)).toBe(0);
  });

  it("refuses a read-only file inside a writable mount, before any VM is made", async () => {
    const s = await setup();
    const pointer = path.join(s.worktree, ".git");
    await writeFile(pointer, "gitdir: /elsewhere\n");
    const mounts: MountSpec[] = [
      { source: s.worktree, target: s.worktree, readOnly: false },
      { source: pointer, target: pointer, readOnly: true },
    ];
    const err = await refusal(s.backend.create(s.launch({ mounts })));
    expect(err.message).toContain(`${pointer} (for ${pointer}, read-only) is not a directory`);
    expect(err.message).toContain("Lima shares directories only");
    expect(err.message).toContain("no sandbox was started");
    expect(err.message).toContain("sandbox.lima.driver: qemu");
    expect(await s.fake.calls()).toEqual([]);
  });

  it("refuses a read-only directory inside a writable one (root in the VM could unmount it)", async () => {
    const s = await setup();
    const inner = path.join(s.worktree, "vendor");
    await mkdir(inner);
    const mounts: MountSpec[] = [
      { source: s.worktree, target: s.worktree, readOnly: false },
      { source: inner, target: inner, readOnly: true },
    ];
    const err = await refusal(s.backend.create(s.launch({ mounts })));
    expect(err.message).toContain(
      `${inner} is to be read-only but lies inside the writable ${s.worktree}`,
    );
    expect(await s.fake.calls()).toEqual([]);
  });

  it("refuses when Lima's filled config adds a mount (an override.yaml) and runs nothing", async () => {
    const s = await setup({
      FAKE_LIMA_EXTRA_MOUNTS: JSON.stringify([{ location: "~", writable: true }]),
    });
    const err = await refusal(s.backend.create(s.launch()));
    expect(err.message).toContain("other mounts than wm asked for");
    expect(err.message).toContain("override.yaml");
    expect((await s.fake.calls()).map((c) => c.argv[0])).toEqual(["list", "create", "list"]);
  });

  it("refuses a mount type other than 9p forced by Lima's config", async () => {
    const s = await setup({ FAKE_LIMA_MOUNT_TYPE: "virtiofs" });
    const err = await refusal(s.backend.create(s.launch()));
    expect(err.message).toContain("with virtiofs, not 9p");
    expect((await s.fake.calls()).map((c) => c.argv[0])).not.toContain("start");
  });

  it("other mounts: refused while a sandbox runs in the instance, the instance remade once none does", async () => {
    const s = await setup();
    const first = await s.backend.create(
      s.launch({
        command: ["/bin/sh", "-c", 'read line; echo "got-$line"'],
        terminal: { tty: false, stdin: true },
      }),
    );
    const streams = await s.backend.attach(first, { tty: false, stdin: true });
    const out = readAll(streams.stdout);
    await s.backend.start(first);
    const extra = path.join(tmp ?? "", "extra");
    await mkdir(extra);
    const other = s.launch({
      name: `${s.name}-2`,
      mounts: [...s.launch().mounts, { source: extra, target: "/extra", readOnly: true }],
    });
    const err = await refusal(s.backend.create(other));
    expect(err.message).toContain(`the Lima instance ${s.instance} runs other sandboxes`);

    streams.stdin?.end("go\n");
    expect(await s.backend.wait(first)).toBe(0);
    expect(await out).toBe("got-go\n");
    const before = (await s.fake.calls()).length;
    await s.backend.create(other);
    const after = (await s.fake.calls()).slice(before).map((c) => c.argv);
    expect(after.map((a) => a[0])).toEqual(["list", "delete", "create", "list", "start"]);
    expect(after[1]).toEqual(["delete", "--force", s.instance]);
    const created = (await s.fake.calls()).at(-3)?.yaml ?? "";
    expect(parse(created).mounts[2]).toEqual({
      location: extra,
      mountPoint: "/extra",
      writable: false,
    });
  });

  it("runs on a terminal when one is asked for", async () => {
    const s = await setup();
    const h = await s.backend.create(
      s.launch({
        command: ["/bin/sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty; exit 3"],
        terminal: { tty: true, stdin: true },
      }),
    );
    const streams = await s.backend.attach(h, { tty: true, stdin: true });
    const out = readAll(streams.stdout);
    await s.backend.start(h);
    await s.backend.resize(h, { rows: 40, cols: 100 });
    expect(await s.backend.wait(h)).toBe(3);
    expect(await out).toContain("on-a-tty");
  });

  it("delivers a signal to the command through its recorded pid; stop ends it", async () => {
    const s = await setup();
    const h = await s.backend.create(
      s.launch({ command: ["/bin/sh", "-c", "echo ready; exec sleep 600"] }),
    );
    const streams = await s.backend.attach(h, { tty: false, stdin: false });
    const ready = firstOutput(streams.stdout, "ready");
    await s.backend.start(h);
    await ready;
    await s.backend.signal(h, "SIGTERM");
    expect(await s.backend.wait(h)).toBe(143);
    const sent = (await s.fake.calls()).at(-1)?.argv ?? [];
    expect(sent.slice(0, 6)).toEqual(["shell", "--tty=false", "--workdir", "/", s.instance, "--"]);
    expect(sent.slice(6, 10)).toEqual(["/bin/sh", "-c", 'kill -s "$0" "$(cat "$1")"', "TERM"]);

    const h2 = await s.backend.create(
      s.launch({ name: `${s.name}-2`, command: ["/bin/sh", "-c", "echo ready; exec sleep 600"] }),
    );
    const streams2 = await s.backend.attach(h2, { tty: false, stdin: false });
    const ready2 = firstOutput(streams2.stdout, "ready");
    await s.backend.start(h2);
    await ready2;
    await s.backend.stop(h2, 30);
    expect(await s.backend.inspect(h2)).toMatchObject({ running: false, exitCode: 143 });
  });

  it("listOwned: the live shells carrying all the labels; remove forgets one and its env file", async () => {
    const s = await setup();
    const h = await s.backend.create(
      s.launch({
        command: ["/bin/sh", "-c", "read x"],
        terminal: { tty: false, stdin: true },
        env: { A: "1" },
      }),
    );
    const envFile = path.join(s.runDir, s.instance, `${s.name}.env`);
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    expect(await s.backend.listOwned({ "wm.owner": String(uid) })).toEqual([]);
    const streams = await s.backend.attach(h, { tty: false, stdin: true });
    await s.backend.start(h);
    const owned = await s.backend.listOwned({
      "wm.owner": String(uid),
      "wm.sandbox": "sb-000000000001",
    });
    expect(owned.map((i) => [i.handle, i.running])).toEqual([[h, true]]);
    expect(await s.backend.listOwned({ "wm.owner": "someone-else" })).toEqual([]);
    await expect(s.backend.listOwned({})).rejects.toThrow("at least one label");
    streams.stdin?.end("\n");
    await s.backend.wait(h);
    expect(await s.backend.listOwned({ "wm.owner": String(uid) })).toEqual([]);
    await s.backend.remove(h);
    expect(await s.backend.inspect(h)).toBeUndefined();
    await expect(stat(envFile)).rejects.toThrow();
    await s.backend.remove(h);
  });

  it("takes the instance name, size and provisioning from launch.vm and runs its preflight", async () => {
    const s = await setup();
    const h = await s.backend.create(
      s.launch({
        command: ["/bin/sh", "-c", "echo command-ran"],
        vm: {
          vmName: "wm-demo-0badcafe",
          scope: "project",
          roots: [],
          cpus: 3,
          memoryMiB: 3072,
          diskBytes: 20 * 1024 ** 3,
          provision: "echo provisioned",
          skipDefaultProvision: true,
          preflight: "echo preflight-ran >&2; ",
        },
      }),
    );
    const streams = await s.backend.attach(h, { tty: false, stdin: false });
    const [out, err] = [readAll(streams.stdout), readAll(streams.stderr)];
    await s.backend.start(h);
    expect(await s.backend.wait(h)).toBe(0);
    expect([await out, await err]).toEqual(["command-ran\n", "preflight-ran\n"]);
    const created = (await s.fake.calls()).find((c) => c.argv[0] === "create");
    expect(created?.argv.slice(0, 3)).toEqual(["create", "--name", "wm-demo-0badcafe"]);
    expect(parse(created?.yaml ?? "")).toMatchObject({
      cpus: 3,
      memory: "3GiB",
      disk: "20GiB",
      provision: [{ mode: "user", script: "echo provisioned" }],
    });
  });

  it("refuses a worktree owned by another user than Lima's guest user", async () => {
    const s = await setup();
    const err = await refusal(s.backend.create(s.launch({ user: { uid: uid + 1, gid } })));
    expect(err.message).toContain(`not as the worktree's owner (uid ${uid + 1})`);
  });

  it("a missing limactl refuses the launch naming the driver key", async () => {
    const s = await setup();
    const backend = limaSandboxBackend({
      env: { PATH: "/nonexistent-dir" },
      runDir: s.runDir,
      hostUid: uid,
      vm: { image: { location: "https://example.invalid/x.qcow2" } },
    });
    const err = await refusal(backend.create(s.launch()));
    expect(err.message).toContain("sandbox.lima.driver: limactl needs Lima's `limactl`");
  });

  it("requireImage checks a local VM image and accepts a URL", async () => {
    const s = await setup();
    await s.backend.requireImage("ignored");
    const local = limaSandboxBackend({
      env: {},
      runDir: s.runDir,
      hostUid: uid,
      vm: { image: { location: path.join(tmp ?? "", "missing.qcow2") } },
    });
    const err = await refusal(local.requireImage("ignored"));
    expect(err.message).toContain("sandbox.image: the VM image");
  });
});
