import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type TempTree, tempTree } from "../../test/fixtures/config/temp-tree.ts";
import { createLogger } from "../log.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { WorktreeStore } from "./worktree-store.ts";

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree({ "main/README.md": "hello\n", "state/": "" });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=wm", "-c", "user.email=wm@example.invalid", ...args], {
      cwd: tree.at("main"),
      env: { PATH: process.env.PATH, HOME: tree.root },
    });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "initial");
  for (const name of ["a", "b"]) git("worktree", "add", "-q", "-b", name, tree.at(name));
});
afterEach(async () => {
  await tree.remove();
});

const log = createLogger({ level: "silent" });
const file = () => tree.at("state/worktrees.json");
const onDisk = async () => JSON.parse(await fs.readFile(file(), "utf8"));
const recordOf = (name: string): WorktreeRecord => ({
  worktreePath: tree.at(name),
  commonDir: tree.at("main/.git"),
  adminDir: tree.at(`main/.git/worktrees/${name}`),
  branch: name,
});

describe("worktrees.json", () => {
  it("migrates the unversioned map of earlier versions, records without a branch included", async () => {
    const { branch: _, ...old } = recordOf("a");
    const legacy = { [tree.at("a")]: old, [tree.at("b")]: recordOf("b") };
    await fs.writeFile(file(), JSON.stringify(legacy));
    const store = new WorktreeStore(tree.at("state"), log);
    expect(await store.all()).toEqual([old, recordOf("b")]);
    expect(await onDisk()).toEqual({ version: 1, worktrees: legacy });
    expect(await store.get(tree.at("a"))).toEqual(old);
    const names = await fs.readdir(tree.at("state"));
    expect(names.filter((n) => n.includes("unreadable"))).toEqual([]);
  });

  it("records a worktree met for the first time and keeps what was recorded", async () => {
    const store = new WorktreeStore(tree.at("state"), log);
    expect(await store.get(tree.at("a"))).toEqual(recordOf("a"));
    execFileSync("git", ["checkout", "-q", "-b", "later"], { cwd: tree.at("a") });
    const again = new WorktreeStore(tree.at("state"), log);
    expect(await again.get(tree.at("a"))).toEqual(recordOf("a"));
  });

  it("is moved aside when unreadable, and the store goes on recording", async () => {
    await fs.writeFile(file(), '{"version": 1, "worktrees": {"/x": {"worktreePath": 7}}}');
    const store = new WorktreeStore(tree.at("state"), log);
    expect(await store.all()).toEqual([]);
    await store.get(tree.at("b"));
    expect(await onDisk()).toEqual({ version: 1, worktrees: { [tree.at("b")]: recordOf("b") } });
    const names = await fs.readdir(tree.at("state"));
    expect(names.filter((n) => n.startsWith("worktrees.json.unreadable-"))).toHaveLength(1);
  });

  it("concurrent first meetings are all recorded", async () => {
    const store = new WorktreeStore(tree.at("state"), log);
    await Promise.all([store.get(tree.at("a")), store.get(tree.at("b"))]);
    expect(Object.keys((await onDisk()).worktrees).sort()).toEqual([tree.at("a"), tree.at("b")]);
  });

  it("remembers what `wm add` recorded and forgets a removed worktree", async () => {
    const store = new WorktreeStore(tree.at("state"), log);
    await store.remember(recordOf("a"));
    await store.remember(recordOf("b"));
    await store.forget(tree.at("a"));
    expect(await new WorktreeStore(tree.at("state"), log).all()).toEqual([recordOf("b")]);
  });
});

describe("the path of a worktree", () => {
  it("is recorded by realpath", async () => {
    await fs.symlink(tree.at("a"), tree.at("link"));
    const store = new WorktreeStore(tree.at("state"), log);
    expect((await store.get(path.join(tree.at("link"), "."))).worktreePath).toBe(tree.at("a"));
  });
});
