import { describe, expect, it } from "vitest";
import { kernelCommandLine, qemuArgs, type VmShare, type VmSpec } from "./qemu-args.ts";

const spec: VmSpec = {
  dir: "/tmp/vm1",
  name: "agent-1",
  cpus: 2,
  memoryMiB: 1024,
  kernel: "/c/vmlinuz",
  initrd: "/c/initrd.img",
  disk: "/tmp/vm1/root.qcow2",
  shares: [
    { tag: "work", hostPath: "/home/u/wt,odd", guestPath: "/work", readOnly: false },
    {
      tag: "git",
      hostPath: "/home/u/repo/.git",
      guestPath: "/repo/.git",
      readOnly: true,
      securityModel: "mapped-xattr",
    },
  ],
  command: "echo hi there",
};

const work = spec.shares[0] as VmShare;

function after(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
}

describe("qemuArgs", () => {
  it("exports each share with its own read-only flag and security model", () => {
    expect(after(qemuArgs(spec, "tcg"), "-fsdev")).toEqual([
      "local,id=fs0,path=/home/u/wt,,odd,security_model=none",
      "local,id=fs1,path=/home/u/repo/.git,security_model=mapped-xattr,readonly=on",
    ]);
    expect(after(qemuArgs(spec, "tcg"), "-device")).toEqual([
      "virtio-9p-pci,fsdev=fs0,mount_tag=work",
      "virtio-9p-pci,fsdev=fs1,mount_tag=git",
    ]);
  });

  it("has no display, QMP on the VM directory's socket, a pidfile and the serial log", () => {
    const args = qemuArgs(spec, "kvm");
    expect(args).toContain("-nographic");
    expect(args).toContain("-nodefaults");
    expect(after(args, "-qmp")).toEqual(["unix:/tmp/vm1/qmp.sock,server=on,wait=off"]);
    expect(after(args, "-pidfile")).toEqual(["/tmp/vm1/qemu.pid"]);
    expect(after(args, "-serial")).toEqual(["file:/tmp/vm1/serial.log"]);
    expect(after(args, "-accel")).toEqual(["kvm"]);
    expect(after(args, "-cpu")).toEqual(["host"]);
    expect(after(qemuArgs(spec, "tcg"), "-cpu")).toEqual(["max"]);
  });

  it("has no network card unless asked, and a restricted one with guestfwd when asked", () => {
    expect(after(qemuArgs(spec, "tcg"), "-nic")).toEqual(["none"]);
    const net = qemuArgs(
      { ...spec, network: { guestfwd: { port: 7070, socketPath: "/tmp/vm1/rpc.sock" } } },
      "tcg",
    );
    expect(after(net, "-nic")).toEqual([
      "user,model=virtio-net-pci,restrict=on,guestfwd=tcp:10.0.2.100:7070-unix:/tmp/vm1/rpc.sock",
    ]);
  });

  it("puts shares and the command on the kernel command line, base64-encoded", () => {
    const line = kernelCommandLine(spec);
    expect(line).toContain(`wm.share=work,rw,${Buffer.from("/work").toString("base64")}`);
    expect(line).toContain(`wm.share=git,ro,${Buffer.from("/repo/.git").toString("base64")}`);
    expect(line).toContain(`wm.cmd=${Buffer.from("echo hi there").toString("base64")}`);
    expect(line.startsWith("console=ttyS0 ")).toBe(true);
  });

  it("rejects what QEMU or the guest would misread, naming it", () => {
    expect(() => qemuArgs({ ...spec, dir: `/tmp/${"d".repeat(120)}` }, "tcg")).toThrow(
      /socket path is longer/,
    );
    expect(() => qemuArgs({ ...spec, shares: [{ ...work, tag: "a,b" }] }, "tcg")).toThrow(
      /tag "a,b"/,
    );
    expect(() => qemuArgs({ ...spec, shares: [work, work] }, "tcg")).toThrow(/used twice/);
    expect(() => qemuArgs({ ...spec, shares: [{ ...work, guestPath: "work" }] }, "tcg")).toThrow(
      /absolute/,
    );
    expect(() => kernelCommandLine({ ...spec, command: "x".repeat(2000) })).toThrow(
      /kernel command line is \d+ bytes/,
    );
  });
});
