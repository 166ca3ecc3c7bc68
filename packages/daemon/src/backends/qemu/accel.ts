import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { QEMU_BINARY } from "./qemu.ts";
import { type Accelerator, machineArgs } from "./qemu-args.ts";

export interface AccelProbeResult {
  accel: Accelerator;
  /** Why KVM was not chosen, when it was not. */
  reason?: string | undefined;
}

/**
 * Boots the VM kernel + initramfs with `wm.probe` under KVM: the initramfs prints WM-PROBE-OK
 * and powers off at once. No marker within `deadlineMs` (KVM guests can hang on some hosts)
 * or no usable /dev/kvm means TCG.
 */
export async function probeAccelerator(opts: {
  kernel: string;
  initrd: string;
  env: Readonly<Record<string, string | undefined>>;
  deadlineMs?: number | undefined;
  kvmDevice?: string | undefined;
  /** qemu-system-x86_64 unless given. */
  binary?: string | undefined;
}): Promise<AccelProbeResult> {
  const dev = opts.kvmDevice ?? "/dev/kvm";
  try {
    await access(dev, constants.R_OK | constants.W_OK);
  } catch {
    return { accel: "tcg", reason: `${dev} is missing or not usable by this user` };
  }
  const deadline = opts.deadlineMs ?? 20_000;
  const args = [
    ...machineArgs("kvm", { cpus: 1, memoryMiB: 256 }),
    "-serial",
    "stdio",
    "-kernel",
    opts.kernel,
    "-initrd",
    opts.initrd,
    "-append",
    "console=ttyS0 quiet panic=-1 wm.probe",
  ];
  return new Promise((resolve) => {
    const child = spawn(opts.binary ?? QEMU_BINARY, args, {
      env: { ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let settled = false;
    const settle = (r: AccelProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        settle({
          accel: "tcg",
          reason: `a KVM guest printed nothing within ${deadline} ms (hang)`,
        }),
      deadline,
    );
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      if (out.includes("WM-PROBE-OK")) settle({ accel: "kvm" });
    });
    child.stderr.on("data", (b: Buffer) => {
      out += b.toString("utf8");
    });
    child.on("error", (e) =>
      settle({ accel: "tcg", reason: `cannot run ${QEMU_BINARY}: ${e.message}` }),
    );
    child.on("close", (code) =>
      settle({
        accel: "tcg",
        reason: `KVM guest exited (code ${code}) without the marker: ${out.trim().split("\n").slice(-3).join(" / ")}`,
      }),
    );
  });
}

/** The probe's answer, computed once per daemon (the daemon owns one instance). */
export class AcceleratorChoice {
  private result: Promise<AccelProbeResult> | undefined;

  constructor(private readonly probe: () => Promise<AccelProbeResult>) {}

  get(): Promise<AccelProbeResult> {
    this.result ??= this.probe();
    return this.result;
  }
}
