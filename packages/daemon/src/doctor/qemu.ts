import type { DoctorCheck } from "@wm/protocol";
import { installHint, probeVersion } from "./run-version.ts";
import type { DoctorContext } from "./types.ts";

const KVM_DEVICE = "/dev/kvm";

interface QemuTarget {
  binary: string;
  debianPackage: string;
}

export function qemuTarget(arch: string): QemuTarget {
  if (arch === "arm64") return { binary: "qemu-system-aarch64", debianPackage: "qemu-system-arm" };
  if (arch === "x64") return { binary: "qemu-system-x86_64", debianPackage: "qemu-system-x86" };
  return { binary: `qemu-system-${arch}`, debianPackage: "qemu-system" };
}

async function accelerationNote(ctx: DoctorContext): Promise<string | undefined> {
  if (ctx.platform !== "linux") return undefined;
  if (await ctx.pathExists(KVM_DEVICE)) {
    return `${KVM_DEVICE} is present, but KVM guests may hang on some hosts; wm then falls back to TCG (software emulation)`;
  }
  return `no ${KVM_DEVICE}: VMs run under TCG (software emulation, slower)`;
}

export async function checkQemu(ctx: DoctorContext): Promise<DoctorCheck> {
  const target = qemuTarget(ctx.arch);
  const [probe, note] = await Promise.all([
    probeVersion(ctx, target.binary),
    accelerationNote(ctx),
  ]);
  const withNote = (text: string) => (note ? `${text}; ${note}` : text);
  const fix = installHint(ctx, [target.debianPackage, "qemu-utils"], ["qemu"]);
  if (probe.state === "missing") {
    return {
      name: "qemu",
      status: "warn",
      detail: withNote(`${target.binary} is not installed: the VM backend is unavailable`),
      fix,
    };
  }
  if (probe.state === "broken") {
    return { name: "qemu", status: "warn", detail: withNote(probe.reason), fix };
  }
  return { name: "qemu", status: "ok", detail: withNote(probe.line) };
}
