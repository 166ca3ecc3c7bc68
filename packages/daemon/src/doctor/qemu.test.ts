import { describe, expect, it } from "vitest";
import { fakeHost } from "./fake-host.ts";
import { runDoctor } from "./index.ts";
import { qemuTarget } from "./qemu.ts";

async function qemu(host: Parameters<typeof fakeHost>[0]) {
  const check = (await runDoctor(fakeHost(host))).find((c) => c.name === "qemu");
  if (!check) throw new Error("no qemu check");
  return check;
}

describe("qemu", () => {
  it("chooses the system emulator by architecture", () => {
    expect(qemuTarget("x64").binary).toBe("qemu-system-x86_64");
    expect(qemuTarget("arm64").binary).toBe("qemu-system-aarch64");
  });

  it("reports the version and notes KVM without using it", async () => {
    const host = fakeHost({
      binaries: {
        "qemu-system-x86_64": "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u17)",
      },
      files: ["/dev/kvm"],
    });
    const check = (await runDoctor(host)).find((c) => c.name === "qemu");
    expect(check?.status).toBe("ok");
    expect(check?.detail).toMatch(/^QEMU emulator version 7\.2\.19/);
    expect(check?.detail).toContain("/dev/kvm is present, but KVM guests may hang");
    expect(check?.detail).toContain("falls back to TCG");
    expect(host.calls.filter((c) => c.includes("qemu"))).toEqual([
      "/fake/bin/qemu-system-x86_64 --version",
    ]);
  });

  it("says VMs use TCG when there is no /dev/kvm", async () => {
    const check = await qemu({
      binaries: { "qemu-system-x86_64": "QEMU emulator version 7.2.19" },
    });
    expect(check.detail).toContain("no /dev/kvm");
  });

  it("warns when the emulator for this architecture is missing", async () => {
    const check = await qemu({ arch: "arm64", binaries: { "qemu-system-x86_64": "QEMU 7.2" } });
    expect(check.status).toBe("warn");
    expect(check.detail).toContain("qemu-system-aarch64 is not installed");
    expect(check.fix).toBe("sudo apt-get install -y qemu-system-arm qemu-utils (Debian/Ubuntu)");
  });
});
