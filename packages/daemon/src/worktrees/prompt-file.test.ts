import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROMPT_FILE, writePromptFile } from "./prompt-file.ts";

let tmp: string;
let target: { path: string; commonDir: string; adminDir: string };
let victim: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, env: { PATH: process.env.PATH }, encoding: "utf8" });

beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-prompt-")));
  const repo = path.join(tmp, "repo");
  await fs.mkdir(repo);
  git(repo, "init", "-q", "-b", "main");
  git(
    repo,
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@t",
    "commit",
    "-q",
    "--allow-empty",
    "-m",
    "i",
  );
  const wt = path.join(tmp, "wt");
  git(repo, "worktree", "add", "-q", "-b", "wt", wt);
  target = {
    path: wt,
    commonDir: path.join(repo, ".git"),
    adminDir: path.join(repo, ".git", "worktrees", "wt"),
  };
  victim = path.join(tmp, "victim");
  await fs.writeFile(victim, "original\n");
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("writePromptFile", () => {
  it("writes the prompt into the worktree's admin dir, where git status never sees it", async () => {
    const file = await writePromptFile(target, "do the thing");
    expect(file).toBe(path.join(target.adminDir, PROMPT_FILE));
    expect(await fs.readFile(file, "utf8")).toBe("do the thing\n");
    expect(git(target.path, "status", "--porcelain", "--untracked-files=all")).toBe("");
    git(target.commonDir, "worktree", "remove", target.path);
    expect(existsSync(target.adminDir)).toBe(false);
  });

  it("replaces a link at the file's name instead of writing through it (control: a plain write does)", async () => {
    const link = path.join(target.adminDir, PROMPT_FILE);
    await fs.symlink(victim, link);
    await fs.writeFile(link, "PAYLOAD\n");
    expect(await fs.readFile(victim, "utf8")).toBe("PAYLOAD\n");
    await fs.writeFile(victim, "original\n");

    await writePromptFile(target, "PAYLOAD");
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect((await fs.lstat(link)).isFile()).toBe(true);
    expect(await fs.readFile(link, "utf8")).toBe("PAYLOAD\n");
  });

  it("refuses an admin dir that is a symbolic link, naming it; nothing lands where it points", async () => {
    const outside = path.join(tmp, "outside");
    await fs.mkdir(outside);
    await fs.rm(target.adminDir, { recursive: true });
    await fs.symlink(outside, target.adminDir);
    const err = await writePromptFile(target, "PAYLOAD").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).message).toBe(
      `${target.adminDir} is a symbolic link, so the prompt was not written (the worktree is at ${target.path})`,
    );
    expect(await fs.readdir(outside)).toEqual([]);
  });
});
