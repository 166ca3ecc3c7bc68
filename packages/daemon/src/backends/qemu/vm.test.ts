import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildVmBase, createOverlay, type VmBase } from "../../images/vm-disk.ts";
import { probeAccelerator } from "./accel.ts";
import { adoptVm, startVm, type VmHandle } from "./qemu.ts";
import { type Accelerator, GUESTFWD_ADDRESS, type VmSpec } from "./qemu-args.ts";
import { guestExitCode } from "./serial.ts";
import { failInCiWithoutVmTools, missingVmTools, vmToolEnv } from "./vm-tools.test-support.ts";

const env = vmToolEnv;
const missing = missingVmTools;

failInCiWithoutVmTools();

describe.runIf(missing.length === 0)("QEMU VM on the offline disk", () => {
  let base: VmBase;
  let accel: Accelerator;
  let tmp: string;
  const started: VmHandle[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    base = await buildVmBase({
      env,
      onProgress: (p) =>
        console.log(`[vm-disk ${((Date.now() - t0) / 1000).toFixed(1)}s] ${p.phase}: ${p.message}`),
    });
    const probe = await probeAccelerator({
      kernel: base.kernel,
      initrd: base.initrd,
      env,
      deadlineMs: 15_000,
    });
    accel = probe.accel;
    console.log(`accelerator: ${accel}${probe.reason ? ` (${probe.reason})` : ""}`);
    tmp = await mkdtemp(path.join(os.tmpdir(), "wm-vm-"));
  }, 240_000);

  afterAll(async () => {
    for (const vm of started) {
      try {
        process.kill(vm.pid, "SIGKILL");
      } catch {}
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function spec(name: string, command: string, shares: VmSpec["shares"]): Promise<VmSpec> {
    const dir = path.join(tmp, name);
    await mkdir(dir, { recursive: true });
    const disk = path.join(dir, "root.qcow2");
    await createOverlay(base, disk, env);
    return {
      dir,
      name,
      cpus: 2,
      memoryMiB: 512,
      kernel: base.kernel,
      initrd: base.initrd,
      disk,
      shares,
      command,
    };
  }

  it("mounts a read-write and a read-only 9p share and hands the guest's exit code back", async () => {
    const rw = path.join(tmp, "rw");
    const ro = path.join(tmp, "ro");
    await mkdir(rw);
    await mkdir(ro);
    await writeFile(path.join(ro, "in.txt"), "from the host\n");
    const vmSpec = await spec(
      "shares",
      [
        "cp /mnt/ro/in.txt /mnt/rw/copy.txt",
        "echo made-in-guest > /mnt/rw/new.txt",
        "if touch /mnt/ro/denied 2>/dev/null; then echo RO-WRITABLE; else echo RO-DENIED; fi",
        "exit 7",
      ].join("\n"),
      [
        { tag: "work", hostPath: rw, guestPath: "/mnt/rw", readOnly: false },
        { tag: "input", hostPath: ro, guestPath: "/mnt/ro", readOnly: true },
      ],
    );
    const t0 = Date.now();
    const vm = await startVm(vmSpec, accel, env);
    started.push(vm);
    const ready = await vm.waitForSerial(/^WM-READY ([\d.]+)/m, 150_000);
    console.log(
      `boot (${accel}): ${ready[1]} s from kernel start to the guest marker, ${((Date.now() - t0) / 1000).toFixed(1)} s from QEMU start`,
    );
    await vm.exited;
    const serial = await readFile(vm.serialLog, "utf8");
    expect(path.basename(base.kernel)).toBe("vmlinux"); // booted uncompressed through PVH
    expect(guestExitCode(serial)).toBe(7);
    expect(serial).toContain("RO-DENIED");
    expect(await readFile(path.join(rw, "copy.txt"), "utf8")).toBe("from the host\n");
    expect(await readFile(path.join(rw, "new.txt"), "utf8")).toBe("made-in-guest\n");
    expect((await stat(path.join(rw, "new.txt"))).uid).toBe(process.getuid?.());
    expect(existsSync(path.join(ro, "denied"))).toBe(false);
  }, 200_000);

  it("reaches a host Unix socket through guestfwd and nothing on the host through the gateway", async () => {
    const vmSpec = await spec("net", "", []);
    let received = "";
    const rpc = net.createServer((s) =>
      s.on("data", (d) => {
        received += d.toString();
        s.write(`pong ${d}`);
      }),
    );
    const tcp = net.createServer((s) => s.end("host-tcp\n"));
    await new Promise<void>((r) => rpc.listen(path.join(vmSpec.dir, "rpc.sock"), r));
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const port = (tcp.address() as net.AddressInfo).port;
    try {
      const vm = await startVm(
        {
          ...vmSpec,
          network: { guestfwd: { port: 7070, socketPath: path.join(vmSpec.dir, "rpc.sock") } },
          command: [
            `bash -c 'exec 3<>/dev/tcp/${GUESTFWD_ADDRESS}/7070 && echo ping >&3 && read -t 30 -r l <&3 && echo "GOT $l"'`,
            `bash -c 'exec 3<>/dev/tcp/10.0.2.2/${port} && echo HOST-REACHED' || echo HOST-REFUSED`,
          ].join("\n"),
        },
        accel,
        env,
      );
      started.push(vm);
      await vm.exited;
      const serial = await readFile(vm.serialLog, "utf8");
      expect(serial).toMatch(/^GOT pong ping\r?$/m);
      expect(received).toBe("ping\n");
      expect(serial).toContain("HOST-REFUSED");
      expect(serial).not.toContain("HOST-REACHED");
    } finally {
      rpc.close();
      tcp.close();
    }
  }, 200_000);

  it("re-adopts a running VM from its pidfile and QMP socket and stops it through QMP", async () => {
    const vmSpec = await spec("adopt", "echo WAITING\nsleep infinity", []);
    expect(await adoptVm(vmSpec.dir)).toEqual({ state: "stopped", reason: "no pidfile" });
    const first = await startVm(vmSpec, accel, env);
    started.push(first);
    await first.waitForSerial(/^WAITING/m, 150_000);
    first.detach(); // the daemon goes away; QEMU does not

    const adopted = await adoptVm(vmSpec.dir);
    if (adopted.state !== "running") throw new Error(`not re-adopted: ${adopted.reason}`);
    expect(adopted.vm.pid).toBe(first.pid);
    expect(await adopted.vm.status()).toBe("running");

    expect(await adopted.vm.stop(60_000)).toBe("powerdown");
    const serial = await readFile(adopted.vm.serialLog, "utf8");
    expect(serial).toContain("WM-POWERDOWN");
    expect(guestExitCode(serial)).toBe(143);
    expect((await adoptVm(vmSpec.dir)).state).toBe("stopped");
  }, 200_000);
});
