import path from "node:path";

export type Accelerator = "kvm" | "tcg";

export interface VmShare {
  /** 9p mount tag (at most 31 bytes). */
  tag: string;
  hostPath: string;
  guestPath: string;
  readOnly: boolean;
  /**
   * "none": guest sees host owners and modes, writes as the QEMU user; "passthrough": files the
   * guest makes get the guest user's uid (QEMU must run as root); "mapped-xattr": guest owners
   * kept in xattrs.
   */
  securityModel?: "none" | "passthrough" | "mapped-xattr" | undefined;
}

/** A guest TCP port QEMU connects to a host Unix socket (slirp's guestfwd). */
export interface GuestForward {
  port: number;
  socketPath: string;
}

export interface VmSpec {
  /** Directory of this VM: pidfile, QMP socket, serial log, QEMU's own log. */
  dir: string;
  name: string;
  cpus: number;
  memoryMiB: number;
  kernel: string;
  initrd: string;
  /** Root disk: the VM's qcow2 overlay. */
  disk: string;
  shares: readonly VmShare[];
  /** Shell script the guest runs (wm.cmd); the VM powers off when it ends. */
  command: string;
  /** Guest working directory for the command. */
  cwd?: string | undefined;
  /** Extra kernel command line words. */
  append?: readonly string[] | undefined;
  /** undefined: no network card at all. */
  network?:
    | {
        guestfwd?: GuestForward | undefined;
        /** More forwards beside `guestfwd` (each its own guest port). */
        guestfwds?: readonly GuestForward[] | undefined;
      }
    | undefined;
  /** Serial console: a file (default `<dir>/serial.log`) or the QEMU process's stdout. */
  serial?: "file" | "stdio" | undefined;
}

/** Where a VM's files live in its directory. */
export function vmPaths(dir: string) {
  return {
    pidfile: path.join(dir, "qemu.pid"),
    qmp: path.join(dir, "qmp.sock"),
    serial: path.join(dir, "serial.log"),
    log: path.join(dir, "qemu.log"),
  };
}

/** The guest address the host's Unix socket answers on (slirp's "guestfwd"). */
export const GUESTFWD_ADDRESS = "10.0.2.100";

const UNIX_PATH_MAX = 107;

/** QEMU option values separate fields with commas; a literal comma is written twice. */
function esc(value: string): string {
  return value.replaceAll(",", ",,");
}

function b64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}

function forwardsOf(spec: VmSpec): GuestForward[] {
  const n = spec.network;
  return n ? [...(n.guestfwd ? [n.guestfwd] : []), ...(n.guestfwds ?? [])] : [];
}

function checkSpec(spec: VmSpec): void {
  const sockets = [vmPaths(spec.dir).qmp, ...forwardsOf(spec).map((f) => f.socketPath)];
  for (const s of sockets as string[]) {
    if (Buffer.byteLength(s) > UNIX_PATH_MAX) {
      throw new Error(
        `VM socket path is longer than ${UNIX_PATH_MAX} bytes: ${s}; use a shorter VM directory`,
      );
    }
  }
  const tags = new Set<string>();
  for (const s of spec.shares) {
    if (!/^[A-Za-z0-9_-]{1,31}$/.test(s.tag)) {
      throw new Error(`VM share tag ${JSON.stringify(s.tag)} must be 1-31 letters, digits, - or _`);
    }
    if (tags.has(s.tag)) throw new Error(`VM share tag ${s.tag} is used twice`);
    tags.add(s.tag);
    if (!path.isAbsolute(s.hostPath) || !path.posix.isAbsolute(s.guestPath)) {
      throw new Error(`VM share ${s.tag}: host and guest paths must be absolute`);
    }
  }
}

/** The kernel command line: console on the serial port, shares and command for /sbin/wm-init. */
export function kernelCommandLine(spec: VmSpec): string {
  const words = ["console=ttyS0", "quiet", "panic=-1"];
  for (const s of spec.shares)
    words.push(`wm.share=${s.tag},${s.readOnly ? "ro" : "rw"},${b64(s.guestPath)}`);
  words.push(`wm.cmd=${b64(spec.command)}`);
  if (spec.cwd) words.push(`wm.cwd=${b64(spec.cwd)}`);
  if (spec.network) words.push("wm.net");
  words.push(...(spec.append ?? []));
  const line = words.join(" ");
  if (line.length > 2047) {
    throw new Error(
      `the VM's kernel command line is ${line.length} bytes (limit 2047): shorten the command or put it in a share`,
    );
  }
  return line;
}

/**
 * The machine every wm VM is, the accelerator probe's included: q35, the accelerator's CPU,
 * no display, no default devices, no monitor, no reboot.
 */
export function machineArgs(
  accel: Accelerator,
  size: { cpus: number; memoryMiB: number },
): string[] {
  return [
    "-machine",
    "q35",
    "-accel",
    accel,
    "-cpu",
    accel === "kvm" ? "host" : "max",
    "-smp",
    String(size.cpus),
    "-m",
    `${size.memoryMiB}M`,
    "-nodefaults",
    "-no-user-config",
    "-nographic",
    "-monitor",
    "none",
    "-no-reboot",
  ];
}

/** argv (without the binary) of qemu-system-x86_64 for one VM. No display, no default devices. */
export function qemuArgs(spec: VmSpec, accel: Accelerator): string[] {
  checkSpec(spec);
  const p = vmPaths(spec.dir);
  const args = [
    "-name",
    esc(`wm-${spec.name}`),
    ...machineArgs(accel, spec),
    "-serial",
    spec.serial === "stdio" ? "stdio" : `file:${p.serial}`,
    "-qmp",
    `unix:${esc(p.qmp)},server=on,wait=off`,
    "-pidfile",
    p.pidfile,
    "-kernel",
    spec.kernel,
    "-initrd",
    spec.initrd,
    "-append",
    kernelCommandLine(spec),
    "-drive",
    `file=${esc(spec.disk)},if=virtio,format=qcow2,cache=writeback,discard=unmap`,
  ];
  spec.shares.forEach((s, i) => {
    const fsdev = [
      `local`,
      `id=fs${i}`,
      `path=${esc(s.hostPath)}`,
      `security_model=${s.securityModel ?? "none"}`,
    ];
    if (s.readOnly) fsdev.push("readonly=on");
    args.push(
      "-fsdev",
      fsdev.join(","),
      "-device",
      `virtio-9p-pci,fsdev=fs${i},mount_tag=${s.tag}`,
    );
  });
  if (!spec.network) {
    args.push("-nic", "none");
  } else {
    // restrict=on: the guest reaches nothing on the host or beyond, except the guestfwd below.
    const nic = ["user", "model=virtio-net-pci", "restrict=on"];
    for (const fwd of forwardsOf(spec))
      nic.push(`guestfwd=tcp:${GUESTFWD_ADDRESS}:${fwd.port}-unix:${esc(fwd.socketPath)}`);
    args.push("-nic", nic.join(","));
  }
  return args;
}
