import { readFile } from "node:fs/promises";
import { execTool } from "./vm-exec.ts";

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The uncompressed kernel (ELF vmlinux) inside a bzImage, when QEMU can boot it directly: the
 * kernel has PVH entry (CONFIG_PVH) and its payload is xz (Debian's amd64 kernels). Under TCG
 * this skips the in-guest decompression, about half the boot. undefined: boot the bzImage.
 */
export async function extractPvhKernel(
  bzImage: string,
  config: string,
  env: Env,
): Promise<Buffer | undefined> {
  const cfg = await readFile(config, "utf8").catch(() => "");
  if (!/^CONFIG_PVH=y$/m.test(cfg) || !/^CONFIG_KERNEL_XZ=y$/m.test(cfg)) return undefined;
  const image = await readFile(bzImage);
  const at = image.indexOf(XZ_MAGIC);
  if (at === -1) return undefined;
  const elf = await execTool("xz", ["-d", "-c", "--single-stream"], {
    env,
    input: image.subarray(at),
  });
  return elf.subarray(0, 4).equals(Buffer.from("\x7fELF", "latin1")) ? elf : undefined;
}
