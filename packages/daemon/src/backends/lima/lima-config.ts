import { stringify } from "yaml";
import { parseBytes } from "../../sandbox/limits.ts";

/*
 * VM settings → the instance document `limactl create` reads. Field names and defaults were
 * checked against Lima v2.2.0 (lima-vm/lima `templates/default.yaml` and
 * `pkg/limatype/lima_yaml.go` at 183a60d, tag v2.2.0-153).
 *
 * Choices that keep the VM no wider than asked:
 * - `vmType: qemu` with `mountType: 9p`: QEMU opens a read-only share with `readonly=on`, so a
 *   read-only mount holds even against root in the guest. virtiofs is not used: Lima's QEMU
 *   driver cannot make a virtiofs share read-only on the host side (only the guest's mount
 *   options say `ro`, which guest root can undo), and reverse-sshfs lets a compromised guest
 *   sshfs reach unexposed host directories (Lima's own caveat).
 * - No `base:` templates, so Lima's default home mount (`~` read-only) is not inherited.
 * - No port forwarding (one rule ignoring every guest port; Lima's ssh port is always kept).
 * - ssh agent, X11 and `~/.ssh/*.pub` keys are not forwarded; host proxy variables not copied.
 * - containerd off (`system` and `user`): a sandbox runs its command, not containers.
 */

/** A host directory shared with the guest. */
export interface LimaMount {
  hostPath: string;
  /** Where the guest sees it (Lima's `mountPoint`). */
  guestPath: string;
  writable: boolean;
}

/** What the instance is made from. */
export interface LimaVmSettings {
  /** A qcow2/raw image: an https URL or a local path (`sandbox.image`). */
  image: { location: string; arch?: "x86_64" | "aarch64" | undefined; digest?: string | undefined };
  cpus?: number | undefined;
  /** wm size strings (`4GiB`, `8G`, `512m`). */
  memory?: string | undefined;
  disk?: string | undefined;
  mounts: readonly LimaMount[];
  /** `sandbox.lima.provision`: run as the guest user when the VM is created. */
  provision?: string | undefined;
  /** `sandbox.lima.skip_default_provision`: leave out wm's own system provisioning. */
  skipDefaultProvision?: boolean | undefined;
}

/** The Lima mount type wm uses (see above for why not virtiofs or reverse-sshfs). */
export const LIMA_MOUNT_TYPE = "9p";

/**
 * wm's own system provisioning: the tools an agent's sandbox needs (git, certificates, node).
 * Idempotent, as Lima requires (it may run again on restarts).
 */
export const DEFAULT_SYSTEM_PROVISION = `#!/bin/sh
set -eu
if command -v git >/dev/null && command -v node >/dev/null; then exit 0; fi
if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends git ca-certificates nodejs
elif command -v dnf >/dev/null; then
  dnf install -y git ca-certificates nodejs
elif command -v apk >/dev/null; then
  apk add git ca-certificates nodejs
fi
`;

const UNITS = [
  ["TiB", 1024 ** 4],
  ["GiB", 1024 ** 3],
  ["MiB", 1024 ** 2],
  ["KiB", 1024],
] as const;

/** A wm size string as Lima writes sizes: the largest binary unit that divides it ("4GiB"). */
export function limaSize(size: string): string {
  const bytes = parseBytes(size);
  for (const [unit, n] of UNITS) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return String(bytes);
}

/** Lima's own mount entry for one wm mount. */
function mountEntry(m: LimaMount): Record<string, unknown> {
  return { location: m.hostPath, mountPoint: m.guestPath, writable: m.writable };
}

function provisionEntries(s: LimaVmSettings): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (!s.skipDefaultProvision) out.push({ mode: "system", script: DEFAULT_SYSTEM_PROVISION });
  if (s.provision?.trim()) out.push({ mode: "user", script: s.provision });
  return out;
}

/** The instance as a plain object, in Lima's field names. */
export function limaInstanceObject(s: LimaVmSettings): Record<string, unknown> {
  const image: Record<string, unknown> = { location: s.image.location };
  if (s.image.arch) image.arch = s.image.arch;
  if (s.image.digest) image.digest = s.image.digest;
  return {
    minimumLimaVersion: "1.0.0",
    vmType: "qemu",
    images: [image],
    ...(s.cpus !== undefined ? { cpus: s.cpus } : {}),
    ...(s.memory !== undefined ? { memory: limaSize(s.memory) } : {}),
    ...(s.disk !== undefined ? { disk: limaSize(s.disk) } : {}),
    mountType: LIMA_MOUNT_TYPE,
    mounts: s.mounts.map(mountEntry),
    ssh: {
      loadDotSSHPubKeys: false,
      forwardAgent: false,
      forwardX11: false,
      forwardX11Trusted: false,
    },
    containerd: { system: false, user: false },
    portForwards: [{ guestIP: "0.0.0.0", guestIPMustBeZero: false, proto: "any", ignore: true }],
    propagateProxyEnv: false,
    provision: provisionEntries(s),
  };
}

/** The instance document `limactl create` is given. */
export function limaInstanceYaml(s: LimaVmSettings): string {
  return `# Written by wm; recreated when the sandbox's mounts change.\n${stringify(
    limaInstanceObject(s),
  )}`;
}
