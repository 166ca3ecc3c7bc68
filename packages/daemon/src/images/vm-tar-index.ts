import { open } from "node:fs/promises";

/** What a tar member says about itself; `path` is relative, without a leading "./". */
export interface TarMember {
  path: string;
  /** ustar type flag: "0" file, "1" hard link, "2" symlink, "3" char, "4" block, "5" dir, "6" fifo. */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  devMajor: number;
  devMinor: number;
  /** Bytes of data (regular files). */
  size: number;
}

const BLOCK = 512;

function field(h: Buffer, offset: number, length: number): string {
  const raw = h.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}

function num(h: Buffer, offset: number, length: number): number {
  if ((h[offset] ?? 0) & 0x80) {
    // GNU base-256 for values that do not fit in octal.
    let v = 0;
    for (let i = offset + 1; i < offset + length; i++) v = v * 256 + (h[i] ?? 0);
    return v;
  }
  const s = field(h, offset, length).trim();
  return s === "" ? 0 : Number.parseInt(s, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = Number.parseInt(data.subarray(i, space).toString("ascii"), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(space + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

function clean(name: string): string {
  let p = name;
  while (p.startsWith("./")) p = p.slice(2);
  if (p === ".") p = "";
  return p.replace(/\/+$/, "");
}

/** Reads only the headers of an uncompressed tar (ustar, GNU long names, pax), skipping data. */
export async function indexTar(file: string): Promise<TarMember[]> {
  const fh = await open(file, "r");
  try {
    const members: TarMember[] = [];
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let pax = new Map<string, string>();
    const readData = async (size: number) => {
      const b = Buffer.alloc(size);
      await fh.read(b, 0, size, pos);
      return b;
    };
    for (;;) {
      const { bytesRead } = await fh.read(h, 0, BLOCK, pos);
      if (bytesRead < BLOCK || h.every((b) => b === 0)) break;
      pos += BLOCK;
      const type = String.fromCharCode(h[156] || 48);
      const size = Number(pax.get("size") ?? num(h, 124, 12));
      if (type === "L") longName = field(await readData(size), 0, size);
      else if (type === "x") pax = paxRecords(await readData(size));
      else if (type !== "K" && type !== "g") {
        const prefix = field(h, 345, 155);
        const ustarName = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
        members.push({
          path: clean(pax.get("path") ?? longName ?? ustarName),
          type,
          mode: num(h, 100, 8) & 0o7777,
          uid: Number(pax.get("uid") ?? num(h, 108, 8)),
          gid: Number(pax.get("gid") ?? num(h, 116, 8)),
          devMajor: num(h, 329, 8),
          devMinor: num(h, 337, 8),
          size: type === "0" || type === "7" ? Number(pax.get("size") ?? size) : 0,
        });
        longName = undefined;
        pax = new Map();
      }
      // Hard links and special files carry no data even when size is set.
      const hasData = !["1", "2", "3", "4", "5", "6"].includes(type);
      if (hasData) pos += Math.ceil(size / BLOCK) * BLOCK;
    }
    return members;
  } finally {
    await fh.close();
  }
}
