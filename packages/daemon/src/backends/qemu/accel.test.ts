import { describe, expect, it } from "vitest";
import { AcceleratorChoice, probeAccelerator } from "./accel.ts";

describe("accelerator choice", () => {
  it("uses TCG without a usable KVM device, saying why", async () => {
    const r = await probeAccelerator({
      kernel: "/none",
      initrd: "/none",
      env: process.env,
      kvmDevice: "/nonexistent/kvm",
    });
    expect(r).toEqual({
      accel: "tcg",
      reason: "/nonexistent/kvm is missing or not usable by this user",
    });
  });

  it("probes once per owner and reuses the answer", async () => {
    let calls = 0;
    const choice = new AcceleratorChoice(async () => {
      calls++;
      return { accel: "tcg" };
    });
    await Promise.all([choice.get(), choice.get()]);
    await choice.get();
    expect(calls).toBe(1);
  });
});

describe("KVM probe", () => {
  it("falls back to TCG when the KVM guest prints nothing before the deadline (a hang)", async () => {
    const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = await mkdtemp(path.join(os.tmpdir(), "wm-accel-"));
    try {
      const hang = path.join(dir, "qemu-that-hangs");
      await writeFile(hang, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
      const r = await probeAccelerator({
        kernel: "/none",
        initrd: "/none",
        env: process.env,
        kvmDevice: "/dev/null",
        binary: hang,
        deadlineMs: 300,
      });
      expect(r).toEqual({
        accel: "tcg",
        reason: "a KVM guest printed nothing within 300 ms (hang)",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
