import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "./log.ts";
import { RotatingLogFile } from "./log-file.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-log-"));
  dirs.push(dir);
  return dir;
}

function flushed(dest: { flush(cb: (err?: Error) => void): void }): Promise<void> {
  return new Promise((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve())));
}

/** `line NNN` padded with dots to 100 bytes, newline included. */
const line = (n: number) => `line ${String(n).padStart(3, "0")} ${".".repeat(90)}\n`;

describe("daemon log rotation", () => {
  it("moves the file aside past its bound and keeps a fixed number of owner-only files", async () => {
    const file = path.join(await tempDir(), "daemon.log");
    const dest = new RotatingLogFile(file, { maxBytes: 1000, keep: 3 });
    for (let n = 0; n < 100; n++) dest.write(line(n));
    await flushed(dest);
    const names = (await fs.readdir(path.dirname(file))).sort();
    expect(names).toEqual(["daemon.log", "daemon.log.1", "daemon.log.2", "daemon.log.3"]);
    // Newest last: the last 40 lines, 10 to a file, none lost or reordered.
    let text = "";
    for (const name of [...names].reverse()) {
      const full = path.join(path.dirname(file), name);
      expect((await fs.stat(full)).mode & 0o777).toBe(0o600);
      text += await fs.readFile(full, "utf8");
    }
    expect(text).toBe(Array.from({ length: 40 }, (_, i) => line(60 + i)).join(""));
  });

  it("counts what the file already holds when it is reopened", async () => {
    const file = path.join(await tempDir(), "daemon.log");
    await fs.writeFile(file, line(0).repeat(9), { mode: 0o600 });
    const dest = new RotatingLogFile(file, { maxBytes: 1000, keep: 1 });
    dest.write(line(1));
    dest.write(line(2));
    await flushed(dest);
    expect(await fs.readFile(file, "utf8")).toBe(line(2));
    expect(await fs.readFile(`${file}.1`, "utf8")).toBe(line(0).repeat(9) + line(1));
  });

  it("replaces a symlink planted at a rotated name instead of writing through it", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "daemon.log");
    const target = path.join(await tempDir(), "precious");
    await fs.writeFile(target, "keep me\n");
    for (const n of [1, 2, 3]) await fs.symlink(target, `${file}.${n}`);
    const dest = new RotatingLogFile(file, { maxBytes: 1000, keep: 3 });
    for (let n = 0; n < 25; n++) dest.write(line(n));
    await flushed(dest);
    expect(await fs.readFile(target, "utf8")).toBe("keep me\n");
    for (const n of [1, 2]) expect((await fs.lstat(`${file}.${n}`)).isFile()).toBe(true);
    expect(await fs.readFile(`${file}.1`, "utf8")).toContain(line(19));
  });

  it("refuses to open the log through a symlink (control: pino's own destination writes through it)", async () => {
    const file = path.join(await tempDir(), "daemon.log");
    const target = path.join(await tempDir(), "precious");
    await fs.writeFile(target, "keep me\n");
    await fs.symlink(target, file);
    pino.destination({ dest: file, sync: true }).write("written through\n");
    expect(await fs.readFile(target, "utf8")).toBe("keep me\nwritten through\n");
    await fs.writeFile(target, "keep me\n");
    expect(() => new RotatingLogFile(file)).toThrow(/ELOOP|symbolic link/);
    expect(() => createLogger({ level: "info", file })).toThrow();
    expect(await fs.readFile(target, "utf8")).toBe("keep me\n");
  });

  it("rotates the daemon logger's file", async () => {
    const file = path.join(await tempDir(), "daemon.log");
    const log = createLogger({ level: "info", file, rotation: { maxBytes: 4096, keep: 2 } });
    for (let n = 0; n < 500; n++) log.info({ n }, "line");
    await flushed(log);
    const names = (await fs.readdir(path.dirname(file))).sort();
    expect(names).toEqual(["daemon.log", "daemon.log.1", "daemon.log.2"]);
    for (const name of names) {
      expect((await fs.stat(path.join(path.dirname(file), name))).size).toBeLessThanOrEqual(4096);
    }
    const last = (await fs.readFile(file, "utf8")).trim().split("\n").at(-1) as string;
    expect(JSON.parse(last)).toMatchObject({ n: 499, msg: "line" });
  });
});
