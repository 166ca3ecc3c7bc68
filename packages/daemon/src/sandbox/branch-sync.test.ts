import { execFileSync } from "node:child_process";
import { promises as fs, lstatSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gitOut, makeRepo } from "@wm/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BranchSync, type BranchSyncTarget } from "./branch-sync.ts";
import { recordWorktree } from "./git-layout.ts";
import { gitShadowFor, prepareGitShadow } from "./git-shadow.ts";

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };
const MINUTE_NS = 60_000_000_000n;
/** The clock of a status reported a minute after the files were written. */
const aMinuteLater = () => BigInt(Date.now()) * 1_000_000n + MINUTE_NS;

let root: string;
let main: string;
let target: BranchSyncTarget;
let tipFile: string;
let warnings: string[];

/** A sync as the daemon runs it, with `now` as its clock. */
function branchSync(now: () => bigint = aMinuteLater): BranchSync {
  return new BranchSync(env, { warn: (_obj, msg) => warnings.push(msg) }, now);
}

/** Git in the shadow, as the agent's git writes there from inside its sandbox. */
function agentGit(...args: string[]): string {
  return execFileSync("git", ["--git-dir", target.shadow.dir, ...args], {
    encoding: "utf8",
    env: {
      ...env,
      GIT_AUTHOR_NAME: "Agent",
      GIT_AUTHOR_EMAIL: "agent@example.invalid",
      GIT_COMMITTER_NAME: "Agent",
      GIT_COMMITTER_EMAIL: "agent@example.invalid",
    },
  }).trim();
}

/** The agent commits on its branch: a new commit object and the tip file rewritten by git. */
function agentCommits(message: string): string {
  const tree = agentGit("rev-parse", "refs/heads/agent^{tree}");
  const commit = agentGit("commit-tree", tree, "-p", "refs/heads/agent", "-m", message);
  agentGit("update-ref", "refs/heads/agent", commit);
  return commit;
}

/** Counts the slow path's steps during `fn`: queueing, file opens, lstats. */
async function counting<T>(sync: BranchSync, fn: () => Promise<T>) {
  const exclusive = vi.spyOn(sync, "exclusive");
  const open = vi.spyOn(fs, "open");
  const lstat = vi.spyOn(fs, "lstat");
  try {
    const result = await fn();
    return {
      result,
      queued: exclusive.mock.calls.length,
      opens: open.mock.calls.length,
      lstats: lstat.mock.calls.length,
    };
  } finally {
    exclusive.mockRestore();
    open.mockRestore();
    lstat.mockRestore();
  }
}

beforeEach(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-branch-sync-")));
  const repo = await makeRepo(root, ["agent"]);
  main = repo.main;
  const record = await recordWorktree(repo.worktrees.agent as string);
  const shadow = gitShadowFor(path.join(root, "state"), record);
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  await prepareGitShadow(shadow, record, owner, { reseed: true, branch: "agent" });
  target = { record, shadow, branch: "agent" };
  await branchSync().markSynced(target);
  tipFile = path.join(shadow.refs, "heads", "agent");
  warnings = [];
});

afterEach(() => fs.rm(root, { recursive: true, force: true }));

describe("BranchSync.sync when the agent's branch did not move", () => {
  it("answers from one lstat: no file read, no queue, no git", async () => {
    const sync = branchSync();
    const commit = agentCommits("work");
    expect(await sync.sync(target)).toBe("updated");
    const reflog = gitOut(main, "reflog", "--format=%H", "refs/heads/agent");

    const again = await counting(sync, () => sync.sync(target));
    expect(again).toEqual({ result: "unchanged", queued: 0, opens: 0, lstats: 1 });
    expect(gitOut(main, "rev-parse", "agent")).toBe(commit);
    expect(gitOut(main, "reflog", "--format=%H", "refs/heads/agent")).toBe(reflog);
  });

  it("carries over a commit made after the tip was remembered", async () => {
    const sync = branchSync();
    agentCommits("first");
    expect(await sync.sync(target)).toBe("updated");
    expect((await counting(sync, () => sync.sync(target))).queued).toBe(0);

    const second = agentCommits("second");
    const next = await counting(sync, () => sync.sync(target));
    expect(next.result).toBe("updated");
    expect(next.queued).toBe(1);
    expect(gitOut(main, "rev-parse", "agent")).toBe(second);
  });

  it("does not trust a tip read within the settle time of its last change", async () => {
    // Read at the instant the file was written: a rewrite in the same clock tick could keep its
    // times, so the next status reads the file again.
    const sync = branchSync(() => lstatSync(tipFile, { bigint: true }).ctimeNs + 1_000_000n);
    agentCommits("first");
    expect(await sync.sync(target)).toBe("updated");
    const again = await counting(sync, () => sync.sync(target));
    expect(again.result).toBe("unchanged");
    expect(again.queued).toBe(1);
    expect(again.opens).toBeGreaterThan(0);
  });

  it("never follows a tip or a directory above it that was replaced by a symlink", async () => {
    const sync = branchSync();
    const commit = agentCommits("work");
    expect(await sync.sync(target)).toBe("updated");
    // What the link points at names a real commit (main's), so following it would move the branch.
    const mainTip = gitOut(main, "rev-parse", "main");
    const elsewhere = path.join(root, "elsewhere");
    await fs.mkdir(elsewhere);
    await fs.writeFile(path.join(elsewhere, "agent"), `${mainTip}\n`);

    await fs.rm(tipFile);
    await fs.symlink(path.join(elsewhere, "agent"), tipFile);
    const linked = await counting(sync, () => sync.sync(target));
    expect(linked).toMatchObject({ result: "unchanged", queued: 1 });
    expect(gitOut(main, "rev-parse", "agent")).toBe(commit);

    const heads = path.dirname(tipFile);
    await fs.rm(heads, { recursive: true });
    await fs.symlink(elsewhere, heads);
    expect(await sync.sync(target)).toBe("unchanged");
    expect(gitOut(main, "rev-parse", "agent")).toBe(commit);
  });

  it("carries nothing through a refs directory moved aside and linked back", async () => {
    const sync = branchSync();
    const commit = agentCommits("work");
    expect(await sync.sync(target)).toBe("updated");
    expect((await counting(sync, () => sync.sync(target))).queued).toBe(0);
    // The remembered tip file stays the same file, now reached through a symlink.
    const heads = path.dirname(tipFile);
    await fs.rename(heads, `${heads}.real`);
    await fs.symlink(`${heads}.real`, heads);
    expect(await sync.sync(target)).toBe("unchanged");

    const next = agentCommits("through the link");
    expect(lstatSync(`${heads}.real/agent`).isFile()).toBe(true);
    const linked = await counting(sync, () => sync.sync(target));
    expect(linked).toMatchObject({ result: "unchanged", queued: 1 });
    expect(gitOut(main, "rev-parse", "agent")).toBe(commit);
    expect(agentGit("rev-parse", "refs/heads/agent")).toBe(next);
  });

  it("refuses and logs a tip naming no commit on every status, not only the first", async () => {
    const sync = branchSync();
    agentCommits("work");
    expect(await sync.sync(target)).toBe("updated");
    const before = gitOut(main, "rev-parse", "agent");
    await fs.writeFile(`${tipFile}.new`, `${"e".repeat(40)}\n`);
    await fs.rename(`${tipFile}.new`, tipFile);

    expect(await sync.sync(target)).toBe("refused");
    expect(await sync.sync(target)).toBe("refused");
    expect(warnings).toEqual([
      "the sandbox's branch names no commit the repository can take; not carried over",
      "the sandbox's branch names no commit the repository can take; not carried over",
    ]);
    expect(gitOut(main, "rev-parse", "agent")).toBe(before);
  });
});
