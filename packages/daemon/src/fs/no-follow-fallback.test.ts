import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Without /proc (macOS) the module names entries by plain paths, checking each component with
// O_NOFOLLOW. Here /proc is hidden from it, and the refusals must hold the same way.
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  return {
    ...real,
    existsSync: (p: Parameters<typeof real.existsSync>[0]) =>
      p === "/proc/self/fd" ? false : real.existsSync(p),
  };
});

const { PinnedDir, PlantedPathError, writeFileUnder } = await import("./no-follow.ts");

let tmp: string;
let root: string;
let victim: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "wm-nofollow-fb-"));
  root = path.join(tmp, "worktree");
  victim = path.join(tmp, "victim");
  await fs.mkdir(root);
  await fs.writeFile(victim, "original\n");
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("no-follow writes without /proc", () => {
  it("names entries by path, not through /proc", async () => {
    const dir = await PinnedDir.openRoot(root);
    try {
      expect(dir.at("x")).toBe(path.join(root, "x"));
    } finally {
      await dir.close();
    }
  });

  it("replaces a link at the file's name and refuses a linked parent", async () => {
    await fs.mkdir(path.join(root, ".workmux"));
    await fs.symlink(victim, path.join(root, ".workmux", "PROMPT-x.md"));
    await writeFileUnder(root, ".workmux/PROMPT-x.md", "payload\n");
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect((await fs.lstat(path.join(root, ".workmux", "PROMPT-x.md"))).isFile()).toBe(true);

    await fs.symlink(tmp, path.join(root, "up"));
    const err = await writeFileUnder(root, "up/victim", "payload\n").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlantedPathError);
    expect((err as Error).message).toBe(
      "refusing to write through a symbolic link planted in the worktree: up",
    );
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect(existsSync(path.join(tmp, "up"))).toBe(false);
  });
});
