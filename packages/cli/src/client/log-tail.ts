import { promises as fs } from "node:fs";

/** The last `lines` lines of a file, read from its end (never the whole file). */
export async function tailFile(file: string, lines = 20, maxBytes = 64 * 1024): Promise<string[]> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    const all = buf.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}
