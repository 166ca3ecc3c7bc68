import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandGlob, globToRegExp } from "./glob.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "wm-glob-"));
  for (const f of [".env", ".env.local", "a/b/c.json", "a/d.json", "x.txt", ".git/config"]) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await writeFile(path.join(root, f), "");
  }
  await symlink("/", path.join(root, "a", "loop"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("globs", () => {
  it("translate *, ?, **, classes and braces", () => {
    expect(globToRegExp("*.json").test("a.json")).toBe(true);
    expect(globToRegExp("*.json").test("a/b.json")).toBe(false);
    expect(globToRegExp("**/*.json").test("a/b/c.json")).toBe(true);
    expect(globToRegExp("**/*.json").test("c.json")).toBe(true);
    expect(globToRegExp(".env{,.local}").test(".env.local")).toBe(true);
    expect(globToRegExp("[!a]?").test("bc")).toBe(true);
    expect(globToRegExp("[!a]?").test("ac")).toBe(false);
  });

  it("expand below the literal prefix, without .git or descending into symlinks", async () => {
    expect(await expandGlob(root, ".env*")).toEqual([".env", ".env.local"]);
    expect(await expandGlob(root, "a/*.json")).toEqual(["a/d.json"]);
    expect(await expandGlob(root, "**/*.json")).toEqual(["a/b/c.json", "a/d.json"]);
    expect(await expandGlob(root, "**/config")).toEqual([]);
    expect(await expandGlob(root, "a/loop/*")).toEqual([]);
    expect(await expandGlob(root, "a/loop/etc/hostname")).toEqual([]);
    expect(await expandGlob(root, "x.txt")).toEqual(["x.txt"]);
  });
});
