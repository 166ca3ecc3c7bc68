import { mkdtemp, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CheckedFile, checkConfigText, type FileRole } from "./check-text.ts";
import { ConfigFiles, type ConfigFilesOptions } from "./file-cache.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-config-cache-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const role: FileRole = { kind: "project", globalFile: "/nonexistent/config.yaml" };
const TEXT = "agent: claude\nmystery: 1\n";
/** A clock an hour ahead: the files written here are past the window in which they are not kept. */
const later = () => (BigInt(Date.now()) + 3_600_000n) * 1_000_000n;

/** A cache whose in-thread checks are counted, per file. */
function counted(opts: ConfigFilesOptions = {}) {
  const checks: string[] = [];
  const files = new ConfigFiles({
    now: later,
    ...opts,
    checkInThread: (file, text, r) => {
      checks.push(path.basename(file));
      return checkConfigText(file, text, r);
    },
  });
  return { files, checks };
}

async function write(name: string, text = TEXT): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("ConfigFiles", () => {
  it("parses an unchanged file once and reports the same problems each time", async () => {
    const { files, checks } = counted();
    const file = await write(".workmux.yaml");
    const first = await files.load(file, role);
    const second = await files.load(file, role);
    expect(checks).toEqual([".workmux.yaml"]);
    expect(first.warnings).toEqual([
      expect.objectContaining({
        file,
        key: "mystery",
        message: 'unknown key "mystery" is ignored',
      }),
    ]);
    expect(second).toEqual(first);
    expect(Object.isFrozen(second.loaded?.value)).toBe(true);
  });

  it("parses a file again once its mtime changes", async () => {
    const { files, checks } = counted();
    const file = await write(".workmux.yaml");
    await files.load(file, role);
    const { mtime } = await stat(file);
    await utimes(file, mtime, new Date(mtime.getTime() - 60_000));
    await files.load(file, role);
    expect(checks).toHaveLength(2);
  });

  it("parses a file again once it is replaced, even by one of the same size and mtime", async () => {
    const { files, checks } = counted();
    const file = await write(".workmux.yaml", "agent: aaaaaa\n");
    expect((await files.load(file, role)).loaded?.value.agent).toBe("aaaaaa");
    const { atime, mtime } = await stat(file);
    const replacement = await write("next.yaml", "agent: bbbbbb\n");
    await utimes(replacement, atime, mtime);
    await rename(replacement, file);
    expect((await files.load(file, role)).loaded?.value.agent).toBe("bbbbbb");
    expect(checks).toHaveLength(2);
  });

  it("does not keep a file changed within the last two seconds", async () => {
    const { files, checks } = counted({ now: () => BigInt(Date.now()) * 1_000_000n });
    const file = await write(".workmux.yaml");
    await files.load(file, role);
    await files.load(file, role);
    expect(checks).toHaveLength(2);
    expect(files.size).toBe(0);
  });

  it("keeps a file's result apart for each role", async () => {
    const { files, checks } = counted();
    const file = await write("config.yaml", "agent: a\nsandbox:\n  env_passthrough: [TOKEN]\n");
    const asGlobal = await files.load(file, { kind: "global" });
    const asProject = await files.load(file, role);
    expect(checks).toHaveLength(2);
    expect(asGlobal.warnings).toEqual([]);
    expect(asProject.warnings).toEqual([
      expect.objectContaining({ key: "sandbox.env_passthrough" }),
    ]);
  });

  it("keeps at most maxEntries files, dropping the least recently used", async () => {
    const { files, checks } = counted({ maxEntries: 2 });
    const [a, b, c] = await Promise.all(["a.yaml", "b.yaml", "c.yaml"].map((n) => write(n)));
    for (const file of [a, b, a, c] as string[]) await files.load(file, role);
    expect(files.size).toBe(2);
    expect(checks).toEqual(["a.yaml", "b.yaml", "c.yaml"]);
    await files.load(a as string, role);
    await files.load(b as string, role);
    expect(checks).toEqual(["a.yaml", "b.yaml", "c.yaml", "b.yaml"]);
  });

  it("hands files above inThreadBytes to the worker, and keeps what it answers", async () => {
    const sent: number[] = [];
    const worker = {
      check: async (file: string, text: string, r: FileRole): Promise<CheckedFile> => {
        sent.push(text.length);
        return checkConfigText(file, text, r);
      },
    };
    const { files, checks } = counted({ inThreadBytes: 100, worker });
    const small = await write("small.yaml");
    const large = await write("large.yaml", `agent: claude\n${"# comment\n".repeat(20)}`);
    for (const file of [small, large, small, large]) await files.load(file, role);
    expect(checks).toEqual(["small.yaml"]);
    expect(sent).toEqual([214]);
  });

  it("reports a file it cannot read, and reads it once it appears", async () => {
    const { files } = counted();
    const file = path.join(dir, ".workmux.yaml");
    expect((await files.load(file, role)).errors).toEqual([
      expect.objectContaining({ file, message: expect.stringMatching(/^cannot read the file/) }),
    ]);
    await write(".workmux.yaml");
    expect((await files.load(file, role)).errors).toEqual([]);
  });
});
