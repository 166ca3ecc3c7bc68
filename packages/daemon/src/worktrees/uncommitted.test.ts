import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { linksToMain } from "./uncommitted.ts";

let tmp: string;
let main: string;
let wt: string;

beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-uncommitted-")));
  main = path.join(tmp, "main");
  wt = path.join(tmp, "wt");
  await fs.mkdir(path.join(main, "node_modules"), { recursive: true });
  await fs.mkdir(path.join(main, "pkg", "a", "node_modules"), { recursive: true });
  await fs.mkdir(path.join(wt, "pkg", "a"), { recursive: true });
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("linksToMain: what files.symlink makes, and nothing else", () => {
  it("a link to the main worktree's same path, absolute or relative, also in a subdirectory", async () => {
    await fs.symlink(path.join(main, "node_modules"), path.join(wt, "node_modules"));
    await fs.symlink("../../../main/pkg/a/node_modules", path.join(wt, "pkg/a/node_modules"));
    expect(await linksToMain(wt, main, "node_modules")).toBe(true);
    expect(await linksToMain(wt, main, "pkg/a/node_modules")).toBe(true);
  });

  it("still one when the main worktree's path is gone (the link dangles)", async () => {
    await fs.symlink(path.join(main, "node_modules"), path.join(wt, "node_modules"));
    await fs.rm(path.join(main, "node_modules"), { recursive: true });
    expect(await linksToMain(wt, main, "node_modules")).toBe(true);
  });

  it("not a link elsewhere, a link to another path of the main worktree, a file or a directory", async () => {
    await fs.symlink(tmp, path.join(wt, "node_modules"));
    await fs.symlink(path.join(main, "node_modules"), path.join(wt, "other"));
    await fs.writeFile(path.join(wt, "file"), "x\n");
    expect(await linksToMain(wt, main, "node_modules")).toBe(false);
    expect(await linksToMain(wt, main, "other")).toBe(false);
    expect(await linksToMain(wt, main, "file")).toBe(false);
    expect(await linksToMain(wt, main, "pkg")).toBe(false);
    expect(await linksToMain(wt, main, "missing")).toBe(false);
  });
});
