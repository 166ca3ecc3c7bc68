import { readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { type CpioEntry, cpioNewc } from "./vm-cpio.ts";
import { INITRAMFS_INIT } from "./vm-guest-scripts.ts";
import { builtinModules, GUEST_MODULES, indexModules, resolveModules } from "./vm-modules.ts";

/** busybox applets the initramfs init uses. */
const APPLETS = [
  "sh",
  "mount",
  "umount",
  "insmod",
  "cat",
  "sleep",
  "switch_root",
  "poweroff",
  "ip",
];

/**
 * A gzip'd newc initramfs: static busybox, the guest modules in load order and an `/init` that
 * loads them, mounts /dev/vda and switches root. `kernelRoot` is the unpacked linux-image
 * package, `busybox` the unpacked busybox-static binary.
 */
export async function buildInitramfs(
  kernelRoot: string,
  kernelVersion: string,
  busybox: string,
): Promise<{ data: Buffer; modules: string[] }> {
  const modulesDir = path.join(kernelRoot, "lib", "modules", kernelVersion);
  const order = await resolveModules(
    await indexModules(modulesDir),
    GUEST_MODULES,
    await builtinModules(modulesDir),
  );
  const entries: CpioEntry[] = [];
  for (const d of ["bin", "dev", "etc", "lib", "lib/modules", "proc", "root", "sys"]) {
    entries.push({ name: d, type: "dir", mode: 0o755 });
  }
  entries.push({ name: "bin/busybox", type: "file", mode: 0o755, data: await readFile(busybox) });
  for (const a of APPLETS) entries.push({ name: `bin/${a}`, type: "symlink", target: "busybox" });
  for (const m of order) {
    entries.push({
      name: `lib/modules/${m.name}.ko`,
      type: "file",
      mode: 0o644,
      data: await readFile(m.file),
    });
  }
  const names = order.map((m) => m.name);
  entries.push({
    name: "etc/wm-modules",
    type: "file",
    mode: 0o644,
    data: Buffer.from(`${names.join("\n")}\n`),
  });
  entries.push({ name: "init", type: "file", mode: 0o755, data: Buffer.from(INITRAMFS_INIT) });
  return { data: gzipSync(cpioNewc(entries)), modules: names };
}
