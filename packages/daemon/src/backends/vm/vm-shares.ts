import { createHash } from "node:crypto";
import path from "node:path";
import { GUEST_BUSYBOX } from "../../images/vm-guest-scripts.ts";
import type { VmShare } from "../qemu/qemu-args.ts";
import type { MountSpec } from "../types.ts";

/** Where the guest mounts the VM's exports; each sandbox binds what it needs out of them. */
export const EXPORTS_DIR = "/mnt/wm";

/**
 * A host directory a VM exports (virtio-9p), fixed when the VM boots. A sandbox's mounts are
 * bound out of these in its own mount namespace, so one VM serves every worktree of its
 * project: exports are whole project directories, not single worktrees.
 */
export interface VmExport {
  tag: string;
  hostPath: string;
  readOnly: boolean;
}

/** Directories that stand for everything of their kind a project will ask for. */
export interface ExportRoots {
  /** In order: the first that holds a mount's source (and allows its writes) exports it. */
  roots: readonly { hostPath: string; readOnly: boolean }[];
  /** Daemon-owned directory for single files (hard links), exported read-write. */
  filesDir: string;
}

/** `child` is `parent` or inside it. */
export function within(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

const tagOf = (hostPath: string, readOnly: boolean) =>
  `x${createHash("sha256")
    .update(`${readOnly ? "ro" : "rw"}:${hostPath}`)
    .digest("hex")
    .slice(0, 12)}`;

/** The file-link name a single-file mount gets in the files export. */
export function fileLinkName(source: string): string {
  return createHash("sha256").update(source).digest("hex").slice(0, 20);
}

/**
 * The export each mount is bound from. A directory source outside every root is exported as
 * itself; a file source outside every root comes from the files export (a hard link the
 * caller makes), so no directory around it is exported.
 */
export function exportFor(
  mount: MountSpec,
  isFile: boolean,
  roots: ExportRoots,
): { export: VmExport; rel: string } {
  for (const r of roots.roots) {
    if (within(mount.source, r.hostPath) && (mount.readOnly || !r.readOnly)) {
      return {
        export: { tag: tagOf(r.hostPath, r.readOnly), hostPath: r.hostPath, readOnly: r.readOnly },
        rel: path.relative(r.hostPath, mount.source),
      };
    }
  }
  if (isFile) {
    return {
      export: { tag: "files", hostPath: roots.filesDir, readOnly: false },
      rel: fileLinkName(mount.source),
    };
  }
  return {
    export: {
      tag: tagOf(mount.source, mount.readOnly),
      hostPath: mount.source,
      readOnly: mount.readOnly,
    },
    rel: "",
  };
}

/** Exports as QEMU shares mounted under {@link EXPORTS_DIR}. */
export function sharesOf(exports: readonly VmExport[], securityModel: VmShare["securityModel"]) {
  return exports.map(
    (e): VmShare => ({
      tag: e.tag,
      hostPath: e.hostPath,
      guestPath: `${EXPORTS_DIR}/${e.tag}`,
      readOnly: e.readOnly,
      securityModel,
    }),
  );
}

/** Exports of `need` that `have` lacks (same path, and read-write where `need` writes). */
export function missingExports(have: readonly VmExport[], need: readonly VmExport[]): VmExport[] {
  return need.filter((n) => !have.some((h) => h.tag === n.tag && h.hostPath === n.hostPath));
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export interface SessionScript {
  /** Each mount as guest source (inside an export) → target, in order. */
  binds: readonly { source: string; target: string; readOnly: boolean; isFile: boolean }[];
  /** The sandbox's own endpoint directory in the guest (bound at /run/wm). */
  endpointDir: string;
  endpointTarget: string;
  /** Guest mounts to take away once the binds are made (every export). */
  hide: readonly string[];
  /** Guest directories covered by an empty file system (every other sandbox's endpoint). */
  cover: readonly string[];
  user: { uid: number; gid: number };
  home: string;
  workdir: string;
  env: Readonly<Record<string, string>>;
  /** Shell lines run as the user just before the command (toolchain checks). */
  preflight?: string | undefined;
  command: readonly string[];
}

/**
 * The shell script (run as root in the guest, in a mount namespace of its own) that builds one
 * sandbox's view of the files: each mount bound from the exports in order, read-only where
 * asked, the exports and other sandboxes' endpoints hidden, then the command started as the
 * worktree's owner with no capabilities and no way to gain any (it cannot undo a bind).
 */
export function sessionScript(s: SessionScript): string {
  const lines = [
    "set -eu",
    // Every process costs under software emulation: shell tests first, and the static busybox
    // of the VM's disk rather than util-linux's dynamically linked tools. (The caller's
    // `unshare --propagation private` already keeps these mounts from the VM's own view.)
    `B=${GUEST_BUSYBOX}`,
    "$B ip link set lo up",
    "bind() {",
    '  if [ "$4" = file ]; then',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
    '    [ -e "$2" ] || { $B mkdir -p "${2%/*}" && : > "$2"; }',
    '  elif [ ! -d "$2" ]; then $B mkdir -p "$2"; fi',
    '  $B mount -o bind "$1" "$2"',
    '  if [ "$3" = ro ]; then $B mount -o remount,bind,ro "$2"; fi',
    "}",
  ];
  for (const b of s.binds)
    lines.push(
      `bind ${q(b.source)} ${q(b.target)} ${b.readOnly ? "ro" : "rw"} ${b.isFile ? "file" : "dir"}`,
    );
  lines.push(`bind ${q(s.endpointDir)} ${q(s.endpointTarget)} ro dir`);
  for (const h of s.hide) lines.push(`$B umount -l ${q(h)}`);
  for (const c of s.cover) lines.push(`$B mount -t tmpfs -o size=4k,mode=0755 wm-hidden ${q(c)}`);
  lines.push(
    `[ -d ${q(s.home)} ] || $B mkdir -p ${q(s.home)}`,
    `$B chown ${s.user.uid}:${s.user.gid} ${q(s.home)}`,
    `cd ${q(s.workdir)}`,
  );
  const env = Object.entries(s.env).map(([k, v]) => q(`${k}=${v}`));
  const inner = s.preflight ? [q(`${s.preflight}\nexec "$@"`)] : undefined;
  lines.push(
    [
      "exec setpriv",
      `--reuid=${s.user.uid}`,
      `--regid=${s.user.gid}`,
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--no-new-privs",
      "-- env -i",
      ...env,
      ...(inner ? ["/bin/sh -c", ...inner, "wm-sandbox"] : []),
      ...s.command.map(q),
    ].join(" "),
  );
  return `${lines.join("\n")}\n`;
}
