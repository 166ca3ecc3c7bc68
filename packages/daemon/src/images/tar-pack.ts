import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";

/** One regular file of a build context: bytes in memory or a file on disk. */
export type ContextEntry =
  | { name: string; mode: number; data: Buffer | string }
  | { name: string; mode: number; path: string };

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A POSIX ustar header; owner root, fixed mtime so identical contexts hit the build cache. */
export function tarHeader(name: string, mode: number, size: number): Buffer {
  const nameBytes = Buffer.from(name, "utf8");
  if (nameBytes.length === 0 || nameBytes.length > 100 || name.startsWith("/")) {
    throw new Error(`build context entry name must be relative and at most 100 bytes: ${name}`);
  }
  if (size >= 8 ** 11) throw new Error(`build context entry ${name} is too large for ustar`);
  const h = Buffer.alloc(BLOCK, 0);
  nameBytes.copy(h, 0);
  h.write(octal(mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(0, 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write("0", 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write("root", 265, "ascii");
  h.write("root", 297, "ascii");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
}

async function* entryChunks(entry: ContextEntry): AsyncGenerator<Buffer> {
  if ("data" in entry) {
    const data = typeof entry.data === "string" ? Buffer.from(entry.data, "utf8") : entry.data;
    yield tarHeader(entry.name, entry.mode, data.length);
    yield data;
    yield padding(data.length);
    return;
  }
  const { size } = await stat(entry.path);
  yield tarHeader(entry.name, entry.mode, size);
  let sent = 0;
  for await (const chunk of createReadStream(entry.path) as AsyncIterable<Buffer>) {
    sent += chunk.length;
    if (sent > size) break;
    yield chunk;
  }
  if (sent !== size) throw new Error(`${entry.path} changed size while it was being packed`);
  yield padding(size);
}

/** A tar stream of `entries` (regular files only), streamed so large files never sit in memory. */
export function packContext(entries: readonly ContextEntry[]): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    for (const entry of entries) yield* entryChunks(entry);
    yield Buffer.alloc(BLOCK * 2, 0);
  }
  return Readable.from(all(), { objectMode: false });
}
