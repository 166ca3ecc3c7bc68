import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";

export interface TestRepo {
  main: string;
  /** Linked worktrees by branch name. */
  worktrees: Record<string, string>;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: cwd },
  });
}

/**
 * A real repository with one commit and linked worktrees beside it
 * (`<root>/repo`, `<root>/repo__worktrees/<branch>`), owned by `owner` (default: us).
 */
export async function makeRepo(
  root: string,
  branches: readonly string[],
  owner?: { uid: number; gid: number },
): Promise<TestRepo> {
  const main = path.join(root, "repo");
  await fs.mkdir(main, { recursive: true });
  git(main, "init", "-q", "-b", "main");
  git(main, "config", "user.name", "Test User");
  git(main, "config", "user.email", "test@example.invalid");
  await fs.writeFile(path.join(main, "README.md"), "hello\n");
  await fs.writeFile(path.join(main, "main-only.txt"), "tracked in main\n");
  git(main, "add", ".");
  git(main, "commit", "-q", "-m", "initial");
  const worktrees: Record<string, string> = {};
  for (const b of branches) {
    const wt = path.join(root, "repo__worktrees", b);
    git(main, "worktree", "add", "-q", "-b", b, wt);
    worktrees[b] = wt;
  }
  if (owner) execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, root]);
  return { main, worktrees };
}

export function gitOut(cwd: string, ...args: string[]): string {
  return git(cwd, "-c", "safe.directory=*", ...args).trim();
}
