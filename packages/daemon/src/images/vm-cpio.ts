/** One member of an initramfs: a directory, a regular file or a symbolic link, owned by root. */
export type CpioEntry =
  | { name: string; type: "dir"; mode: number }
  | { name: string; type: "file"; mode: number; data: Buffer }
  | { name: string; type: "symlink"; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4, 0);
}

function member(ino: number, name: string, mode: number, data: Buffer): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, "utf8");
  const header = Buffer.from(
    [
      "070701",
      hex8(ino),
      hex8(mode),
      hex8(0), // uid
      hex8(0), // gid
      hex8(1), // nlink
      hex8(0), // mtime: fixed, so the same inputs give the same bytes
      hex8(data.length),
      hex8(0), // devmajor
      hex8(0), // devminor
      hex8(0), // rdevmajor
      hex8(0), // rdevminor
      hex8(nameBytes.length),
      hex8(0), // check
    ].join(""),
    "ascii",
  );
  const head = Buffer.concat([header, nameBytes]);
  return [head, pad4(head.length), data, pad4(data.length)];
}

/** An uncompressed "newc" (SVR4, no CRC) archive, the format the kernel unpacks as initramfs. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    if (e.name.startsWith("/") || e.name === "" || e.name.split("/").includes("..")) {
      throw new Error(`initramfs entry name must be relative without "..": ${e.name}`);
    }
    if (e.type === "dir") parts.push(...member(ino++, e.name, S_IFDIR | e.mode, Buffer.alloc(0)));
    else if (e.type === "file") parts.push(...member(ino++, e.name, S_IFREG | e.mode, e.data));
    else parts.push(...member(ino++, e.name, S_IFLNK | 0o777, Buffer.from(e.target, "utf8")));
  }
  parts.push(...member(0, "TRAILER!!!", 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
