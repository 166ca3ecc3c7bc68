import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { execTool } from "./vm-exec.ts";

export interface KernelDebs {
  /** e.g. "6.1.0-57-amd64": the directory name under /lib/modules. */
  kernelVersion: string;
  /** linux-image-<version> .deb: vmlinuz and the modules. */
  imageDeb: string;
  /** busybox-static .deb: the initramfs userland (one static binary). */
  busyboxDeb: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The versioned kernel package the `linux-image-amd64` meta package points at, from apt's lists. */
export async function resolveKernelPackage(env: Env): Promise<string> {
  const out = (await execTool("apt-cache", ["depends", "linux-image-amd64"], { env })).toString();
  const m = /Depends: (linux-image-(\d[^\s]*-amd64))\s/.exec(out);
  if (!m?.[1]) {
    throw new Error(
      "apt does not know Debian's linux-image-amd64 package; run `apt-get update` (as root) and try again",
    );
  }
  return m[1];
}

async function cachedDeb(dir: string, pkg: string): Promise<string | undefined> {
  if (!existsSync(dir)) return undefined;
  const hit = (await readdir(dir)).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  return hit.length > 0 ? path.join(dir, hit.sort().at(-1) as string) : undefined;
}

/**
 * Downloads (once; later runs are offline) Debian's kernel and busybox-static packages into
 * `debDir` with `apt-get download`, which uses the machine's mirror and proxy and needs no root.
 */
export async function fetchKernelDebs(
  debDir: string,
  env: Env,
  onDownload: (pkg: string) => void,
): Promise<KernelDebs> {
  const imagePkg = await resolveKernelPackage(env);
  await mkdir(debDir, { recursive: true });
  const wanted = [imagePkg, "busybox-static"];
  const missing: string[] = [];
  for (const pkg of wanted) if (!(await cachedDeb(debDir, pkg))) missing.push(pkg);
  if (missing.length > 0) {
    const tmp = await mkdtemp(path.join(debDir, ".download-"));
    try {
      for (const pkg of missing) onDownload(pkg);
      await execTool("apt-get", ["download", "-q", ...missing], { cwd: tmp, env });
      for (const f of await readdir(tmp)) await rename(path.join(tmp, f), path.join(debDir, f));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const imageDeb = await cachedDeb(debDir, imagePkg);
  const busyboxDeb = await cachedDeb(debDir, "busybox-static");
  if (!imageDeb || !busyboxDeb)
    throw new Error(`apt-get download did not leave ${wanted.join(", ")} in ${debDir}`);
  return { kernelVersion: imagePkg.slice("linux-image-".length), imageDeb, busyboxDeb };
}
