import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { branchNameProblem, handleFor, worktreeBaseDir, worktreePathFor } from "./names.ts";

function gitAccepts(name: string): boolean {
  try {
    execFileSync("git", ["check-ref-format", "--branch", name], {
      stdio: "ignore",
      env: { PATH: process.env.PATH },
    });
    return true;
  } catch {
    return false;
  }
}

const NAMES = [
  "main",
  "feature/x",
  "fix-1.2",
  "a/b/c",
  "ünïcode",
  "with#hash",
  "x@y",
  "bad name",
  "a..b",
  "x~1",
  "x^1",
  "a:b",
  "what?",
  "st*r",
  "br[ack",
  "back\\slash",
  "-dash",
  "foo.lock",
  "dir.lock/x",
  ".hidden",
  "a/.b",
  "a//b",
  "/abs",
  "trail/",
  "end.",
  "a@{1}",
  "tab\tname",
  "nl\nname",
  "del\x7f",
];

describe("branchNameProblem agrees with git check-ref-format --branch", () => {
  it.each(NAMES)("%j", (name) => {
    expect(branchNameProblem(name) === undefined).toBe(gitAccepts(name));
  });
});

describe("worktree names and places", () => {
  it("also refuses what git check-ref-format accepts but git branch does not", () => {
    expect(branchNameProblem("@")).toContain("reserved");
    expect(branchNameProblem("HEAD")).toContain("reserved");
  });

  it("derives the handle from the branch (full or basename) with the prefix", () => {
    expect(handleFor("team/feat", "full")).toBe("team-feat");
    expect(handleFor("team/feat", "basename", "ag-")).toBe("ag-feat");
    expect(() => handleFor("x", "full", "../")).toThrow(/contains "\/"/);
    expect(() => handleFor("x", "full", "a\u0001")).toThrow(/control character/);
  });

  it("expands worktree_dir and keeps the worktree a direct child of it", () => {
    expect(worktreeBaseDir(undefined, "/src/proj", "/home/u")).toBe("/src/proj__worktrees");
    expect(worktreeBaseDir("~/w/{project}", "/src/proj", "/home/u")).toBe("/home/u/w/proj");
    expect(worktreeBaseDir("../trees", "/src/proj", "/home/u")).toBe("/src/trees");
    expect(worktreePathFor("/t", "a")).toBe("/t/a");
    expect(() => worktreePathFor("/t", "..")).toThrow(/outside/);
  });
});
