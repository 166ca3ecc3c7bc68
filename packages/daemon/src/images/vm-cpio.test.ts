import { describe, expect, it } from "vitest";
import { cpioNewc } from "./vm-cpio.ts";

/** Reads a newc archive back: name, mode and data of each member. */
function parse(buf: Buffer): { name: string; mode: number; data: string }[] {
  const out: { name: string; mode: number; data: string }[] = [];
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(buf.toString("ascii", off, off + 6)).toBe("070701");
    const field = (i: number) =>
      Number.parseInt(buf.toString("ascii", off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString("utf8", off + 110, off + 110 + nameSize - 1);
    const dataAt = align(off + 110 + nameSize);
    if (name === "TRAILER!!!") return out;
    out.push({ name, mode, data: buf.toString("utf8", dataAt, dataAt + size) });
    off = align(dataAt + size);
  }
}

describe("cpioNewc", () => {
  it("writes directories, files and symlinks the kernel can unpack, 4-byte aligned", () => {
    const archive = cpioNewc([
      { name: "bin", type: "dir", mode: 0o755 },
      { name: "bin/busybox", type: "file", mode: 0o755, data: Buffer.from("abcde") },
      { name: "bin/sh", type: "symlink", target: "busybox" },
    ]);
    expect(archive.length % 4).toBe(0);
    expect(parse(archive)).toEqual([
      { name: "bin", mode: 0o040755, data: "" },
      { name: "bin/busybox", mode: 0o100755, data: "abcde" },
      { name: "bin/sh", mode: 0o120777, data: "busybox" },
    ]);
  });

  it("refuses names that would escape the archive root", () => {
    expect(() => cpioNewc([{ name: "/init", type: "dir", mode: 0o755 }])).toThrow(/relative/);
    expect(() => cpioNewc([{ name: "a/../../x", type: "dir", mode: 0o755 }])).toThrow(/relative/);
  });
});
