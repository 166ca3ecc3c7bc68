/*
 * Contract tests: Lima cannot be installed on the machines wm is developed on, so these drive a
 * stand-in `limactl` (fake-limactl.test-support.ts) that records the argv wm sends and answers
 * in the shapes of Lima v2.2.0's source. They pin what wm says to limactl and how it reads the
 * answers; they do not prove a real Lima VM behaves.
 */
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeLimactl, makeFakeLimactl } from "./fake-limactl.test-support.ts";
import { Limactl, parseInstance } from "./limactl.ts";

let fake: FakeLimactl | undefined;
afterEach(async () => {
  await fake?.remove();
  fake = undefined;
});

const YAML_DOC =
  "vmType: qemu\nmountType: 9p\nmemory: 2GiB\nmounts:\n  - location: /src\n    mountPoint: /work\n    writable: true\n";

describe("Limactl (contract)", () => {
  it("sends Lima's own argv for create, start, list, stop and delete", async () => {
    fake = await makeFakeLimactl();
    const l = new Limactl({ path: fake.bin, env: fake.env });
    await l.create("wm-demo-0123abcd", YAML_DOC);
    await l.start("wm-demo-0123abcd");
    const listed = await l.list();
    await l.stop("wm-demo-0123abcd");
    await l.delete("wm-demo-0123abcd");
    const calls = await fake.calls();
    const createArgv = calls[0]?.argv ?? [];
    expect(createArgv.slice(0, 4)).toEqual(["create", "--name", "wm-demo-0123abcd", "--tty=false"]);
    expect(path.basename(createArgv[4] ?? "")).toBe("wm-demo-0123abcd.yaml");
    expect(calls[0]?.yaml).toBe(YAML_DOC);
    expect(calls.slice(1).map((c) => c.argv)).toEqual([
      ["start", "--tty=false", "wm-demo-0123abcd"],
      ["list", "--json"],
      ["stop", "wm-demo-0123abcd"],
      ["delete", "--force", "wm-demo-0123abcd"],
    ]);
    expect(listed).toEqual([
      {
        name: "wm-demo-0123abcd",
        status: "Running",
        dir: path.join(fake.env.LIMA_HOME ?? "", "wm-demo-0123abcd"),
        cpus: 4,
        memory: 2 * 1024 ** 3,
        disk: 100 * 1024 ** 3,
        mounts: [{ hostPath: "/src", guestPath: "/work", writable: true }],
        mountType: "9p",
      },
    ]);
    expect(await fake.state()).toEqual({});
  });

  it("reads an empty Lima home (a warning on stderr, nothing on stdout) as no instances", async () => {
    fake = await makeFakeLimactl();
    expect(await new Limactl({ path: fake.bin, env: fake.env }).list()).toEqual([]);
  });

  it("parses a list line as Lima prints it, mounts without mountPoint at their location", () => {
    const line = JSON.stringify({
      name: "default",
      hostname: "lima-default",
      status: "Stopped",
      dir: "/Users/me/.lima/default",
      vmType: "vz",
      arch: "aarch64",
      cpus: 4,
      memory: 4294967296,
      disk: 107374182400,
      sshLocalPort: 0,
      config: { mountType: "virtiofs", mounts: [{ location: "~" }] },
      protected: false,
      limaVersion: "2.2.0",
    });
    expect(parseInstance(line)).toMatchObject({
      name: "default",
      status: "Stopped",
      mounts: [{ hostPath: "~", guestPath: "~", writable: false }],
      mountType: "virtiofs",
    });
  });

  it("builds `limactl shell --tty=false --workdir W NAME -- argv…`", () => {
    const l = new Limactl({ path: "/nowhere/limactl", env: {} });
    expect(l.shellArgs("wm-x-1", { workdir: "/w d", argv: ["echo", "a b", "--"] })).toEqual([
      "shell",
      "--tty=false",
      "--workdir",
      "/w d",
      "wm-x-1",
      "--",
      "echo",
      "a b",
      "--",
    ]);
  });

  it("a missing binary names sandbox.lima.driver: limactl, how to install Lima and driver: qemu", async () => {
    const l = new Limactl({ env: { PATH: "/nonexistent-dir" } });
    const err = await l.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    const message = (err as Error).message;
    expect(message).toContain("sandbox.lima.driver: limactl");
    expect(message).toContain("no limactl on PATH");
    expect(message).toContain("install Lima");
    expect(message).toContain("sandbox.lima.driver: qemu");
    const given = new Limactl({ path: "/nonexistent-dir/limactl", env: {} });
    expect(((await given.start("x").catch((e: unknown) => e)) as Error).message).toContain(
      "/nonexistent-dir/limactl is not an executable file",
    );
  });

  it("finds limactl on PATH", async () => {
    fake = await makeFakeLimactl();
    const l = new Limactl({ env: { ...fake.env, PATH: `/nonexistent-dir:${fake.dir}` } });
    expect(await l.binary()).toBe(fake.bin);
  });

  it("a failing command's error carries limactl's stderr tail and argv", async () => {
    fake = await makeFakeLimactl({ FAKE_LIMA_FAIL: "start" });
    const err = (await new Limactl({ path: fake.bin, env: fake.env })
      .start("wm-demo-1")
      .catch((e: unknown) => e)) as RpcError;
    expect(err.message).toContain("limactl start failed (exit 1)");
    expect(err.message).toContain('msg="fake start failure"');
    expect(err.data).toMatchObject({
      argv: ["limactl", "start", "--tty=false", "wm-demo-1"],
      exitCode: 1,
    });
  });
});
