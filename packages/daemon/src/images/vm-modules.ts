import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/**
 * The modules the guest needs before and right after switching root: the PCI transport, the
 * root disk (virtio_blk + ext4 and the crc32c it checksums with), the 9p shares, the network
 * card, and the ACPI power button (so QMP `system_powerdown` reaches the guest).
 */
export const GUEST_MODULES = [
  "virtio_pci",
  "virtio_blk",
  "crc32c_generic",
  "ext4",
  "9pnet_virtio",
  "9p",
  "virtio_net",
  "button",
  "evdev",
] as const;

/** Name → file of every module of a kernel tree (`lib/modules/<version>`), `-` and `_` alike. */
export async function indexModules(modulesDir: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  const files = await readdir(path.join(modulesDir, "kernel"), { recursive: true });
  for (const rel of files) {
    if (!rel.endsWith(".ko")) continue;
    index.set(path.basename(rel, ".ko").replaceAll("-", "_"), path.join(modulesDir, "kernel", rel));
  }
  return index;
}

/** `depends=` and `softdep=pre:` of a module, read from its .modinfo strings. */
export function moduleDeps(ko: Buffer): string[] {
  const deps: string[] = [];
  for (const field of ko.toString("latin1").split("\0")) {
    if (field.startsWith("depends=")) {
      deps.push(...field.slice("depends=".length).split(",").filter(Boolean));
    } else if (field.startsWith("softdep=")) {
      const pre = /pre:\s*([^:]*?)(?:\s+post:|$)/.exec(field.slice("softdep=".length));
      if (pre?.[1]) deps.push(...pre[1].split(/\s+/).filter(Boolean));
    }
  }
  return deps.map((d) => d.replaceAll("-", "_"));
}

/**
 * The modules to load, dependencies first (what modules.dep would say; the Debian package ships
 * no modules.dep because depmod runs at install time). Soft dependencies the kernel tree lacks,
 * or has built in, are skipped; a missing hard dependency is an error.
 */
export async function resolveModules(
  index: ReadonlyMap<string, string>,
  wanted: readonly string[],
  builtin: ReadonlySet<string>,
): Promise<{ name: string; file: string }[]> {
  const order: { name: string; file: string }[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = async (name: string, soft: boolean): Promise<void> => {
    if (state.get(name) === "done" || builtin.has(name)) return;
    if (state.get(name) === "visiting") return; // a soft-dependency cycle; the hard order holds
    const file = index.get(name);
    if (!file) {
      if (soft) return;
      throw new Error(`kernel module ${name} is not in the kernel package`);
    }
    state.set(name, "visiting");
    const ko = await readFile(file);
    const hard = new Set(
      (/\0depends=([^\0]*)/.exec(ko.toString("latin1"))?.[1] ?? "")
        .split(",")
        .filter(Boolean)
        .map((d) => d.replaceAll("-", "_")),
    );
    for (const dep of moduleDeps(ko)) await visit(dep, !hard.has(dep));
    state.set(name, "done");
    order.push({ name, file });
  };
  for (const name of wanted) await visit(name, false);
  return order;
}

/** Names of the built-in modules (`modules.builtin` of the kernel tree). */
export async function builtinModules(modulesDir: string): Promise<Set<string>> {
  const text = await readFile(path.join(modulesDir, "modules.builtin"), "utf8");
  return new Set(
    text
      .split("\n")
      .filter(Boolean)
      .map((l) => path.basename(l, ".ko").replaceAll("-", "_")),
  );
}
