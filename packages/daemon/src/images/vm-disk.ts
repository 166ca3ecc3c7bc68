import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execTool } from "./vm-exec.ts";
import { GUEST_BUSYBOX, GUEST_INIT, INITRAMFS_INIT } from "./vm-guest-scripts.ts";
import { buildInitramfs } from "./vm-initramfs.ts";
import { fetchKernelDebs, type KernelDebs } from "./vm-kernel.ts";
import { buildRootDisk } from "./vm-rootfs.ts";
import { extractPvhKernel } from "./vm-vmlinux.ts";

/** Bump when the way the base is assembled changes (the scripts are hashed on their own). */
export const VM_RECIPE_VERSION = 3;

type Env = Readonly<Record<string, string | undefined>>;

export interface VmBase {
  dir: string;
  key: string;
  kernel: string;
  initrd: string;
  /** qcow2 base image; each VM gets its own copy-on-write overlay on top (createOverlay). */
  disk: string;
  kernelVersion: string;
  modules: string[];
}

export type VmDiskPhase =
  | "cached"
  | "download"
  | "unpack"
  | "initramfs"
  | "rootfs"
  | "convert"
  | "done";
export interface VmDiskProgress {
  phase: VmDiskPhase;
  message: string;
  /** Bytes produced or fetched by the phase so far, when known. */
  bytes?: number;
}

export function wmCacheDir(env: Env): string {
  const home = env.HOME ?? os.homedir();
  return path.join(env.XDG_CACHE_HOME || path.join(home, ".cache"), "wm");
}

export function vmCacheDir(env: Env): string {
  return path.join(wmCacheDir(env), "vm");
}

/** The newest Debian root file system tarball scripts/build-base-image.sh cached. */
export async function findBaseTarball(env: Env): Promise<string> {
  const dir = wmCacheDir(env);
  const names = existsSync(dir)
    ? (await readdir(dir)).filter((f) => /^base-bookworm-amd64-v1-[0-9a-f]+\.tar$/.test(f))
    : [];
  let best: { file: string; mtime: number } | undefined;
  for (const n of names) {
    const file = path.join(dir, n);
    const st = await stat(file);
    if (st.size > 0 && (!best || st.mtimeMs > best.mtime)) best = { file, mtime: st.mtimeMs };
  }
  if (!best) {
    throw new Error(
      `no cached Debian root file system (${path.join(dir, "base-bookworm-amd64-v1-*.tar")}); ` +
        "run: sudo bash scripts/build-base-image.sh",
    );
  }
  return best.file;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function readBase(dir: string): Promise<VmBase | undefined> {
  try {
    return {
      ...JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")),
      dir,
    } as VmBase;
  } catch {
    return undefined;
  }
}

type Progress = (p: VmDiskProgress) => void;

async function baseKey(tarball: string, debs: KernelDebs): Promise<string> {
  const parts = [
    await sha256File(tarball),
    path.basename(debs.imageDeb),
    path.basename(debs.busyboxDeb),
    VM_RECIPE_VERSION,
    INITRAMFS_INIT,
    GUEST_INIT,
  ];
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);
}

/** Kernel (uncompressed when it can boot through PVH) and initramfs into `out`. */
async function buildBoot(
  work: string,
  out: string,
  debs: KernelDebs,
  env: Env,
  progress: Progress,
) {
  progress({ phase: "unpack", message: `unpacking ${path.basename(debs.imageDeb)}` });
  const kroot = path.join(work, "kernel");
  await execTool("dpkg-deb", ["-x", debs.imageDeb, kroot], { env });
  await execTool("dpkg-deb", ["-x", debs.busyboxDeb, path.join(work, "busybox")], { env });

  progress({ phase: "initramfs", message: "building the initramfs" });
  const busybox = path.join(work, "busybox", "bin", "busybox");
  const initrd = await buildInitramfs(kroot, debs.kernelVersion, busybox);
  await writeFile(path.join(out, "initrd.img"), initrd.data);
  const boot = path.join(kroot, "boot");
  const bzImage = path.join(boot, `vmlinuz-${debs.kernelVersion}`);
  const vmlinux = await extractPvhKernel(
    bzImage,
    path.join(boot, `config-${debs.kernelVersion}`),
    env,
  );
  const kernelName = vmlinux ? "vmlinux" : "vmlinuz";
  if (vmlinux) await writeFile(path.join(out, kernelName), vmlinux);
  else await rename(bzImage, path.join(out, kernelName));
  progress({
    phase: "initramfs",
    message: `initramfs with ${initrd.modules.length} modules`,
    bytes: initrd.data.length,
  });
  await rm(kroot, { recursive: true, force: true });
  return { kernelName, modules: initrd.modules, busybox };
}

/** The root disk: ext4 from the tarball plus /sbin/wm-init, as a qcow2 base in `out`. */
async function buildDisk(
  work: string,
  out: string,
  tarball: string,
  kernelVersion: string,
  env: Env,
  progress: Progress,
  busybox: string,
): Promise<void> {
  progress({ phase: "rootfs", message: `root disk from ${path.basename(tarball)}` });
  const raw = path.join(work, "root.ext4");
  const release = `WM_VM_RECIPE=${VM_RECIPE_VERSION}\nWM_VM_KERNEL=${kernelVersion}\n`;
  const disk = await buildRootDisk({
    tarball,
    work: path.join(work, "rootfs-work"),
    out: raw,
    env,
    extra: [
      { path: "sbin/wm-init", mode: 0o755, data: GUEST_INIT },
      { path: "etc/wm-vm-release", mode: 0o644, data: release },
      // Static: each sandbox's setup runs it for its mounts (a dynamic binary's start costs
      // several times more under software emulation) and for `ip`, which the base lacks.
      { path: GUEST_BUSYBOX.slice(1), mode: 0o755, data: await readFile(busybox) },
    ],
  });
  progress({
    phase: "rootfs",
    message: `ext4 root disk (${disk.fixups} owner/mode fixes)`,
    bytes: disk.bytes,
  });
  await rm(path.join(work, "rootfs-work"), { recursive: true, force: true });

  progress({ phase: "convert", message: "converting the root disk to qcow2" });
  const qcow2 = path.join(out, "root.qcow2");
  await execTool("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2], { env });
  await rm(raw, { force: true });
}

/**
 * The VM base (kernel, initramfs, qcow2 root disk), built once per content: the root file system
 * tarball's hash, the kernel package, the recipe version and the guest scripts name the cache
 * directory `$XDG_CACHE_HOME/wm/vm/base-<key>/`. The first build downloads Debian's kernel.
 */
export async function buildVmBase(opts: {
  env: Env;
  tarball?: string | undefined;
  onProgress?: Progress | undefined;
}): Promise<VmBase> {
  const { env } = opts;
  const progress = opts.onProgress ?? (() => {});
  const tarball = opts.tarball ?? (await findBaseTarball(env));
  const vmDir = vmCacheDir(env);
  const debs = await fetchKernelDebs(path.join(vmDir, "debs"), env, (pkg) =>
    progress({ phase: "download", message: `downloading ${pkg} from the Debian mirror` }),
  );
  const key = await baseKey(tarball, debs);
  const dir = path.join(vmDir, `base-${key}`);
  const cached = await readBase(dir);
  if (cached) {
    progress({ phase: "cached", message: `VM base ${dir}` });
    return cached;
  }

  // Assembled in a scratch directory and renamed into place whole: a half-built base never
  // has a manifest.json, so it is never mistaken for a cached one.
  const work = await mkdtemp(path.join(vmDir, `.build-${key}-`));
  try {
    const out = path.join(work, "out");
    await mkdir(out);
    const boot = await buildBoot(work, out, debs, env, progress);
    await buildDisk(work, out, tarball, debs.kernelVersion, env, progress, boot.busybox);
    const manifest = {
      key,
      kernel: path.join(dir, boot.kernelName),
      initrd: path.join(dir, "initrd.img"),
      disk: path.join(dir, "root.qcow2"),
      kernelVersion: debs.kernelVersion,
      modules: boot.modules,
    };
    await writeFile(path.join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(out, dir).catch(async (e) => {
      if (!(await readBase(dir))) throw e; // else another build finished first: use its result
    });
    const base = (await readBase(dir)) as VmBase;
    progress({ phase: "done", message: `VM base ${dir}`, bytes: (await stat(base.disk)).size });
    return base;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A per-VM copy-on-write overlay over the base disk. */
export async function createOverlay(base: VmBase, file: string, env: Env): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await execTool(
    "qemu-img",
    ["create", "-q", "-f", "qcow2", "-b", base.disk, "-F", "qcow2", file],
    { env },
  );
}
