import { mkdir, rm, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TempTree } from "../../test/fixtures/config/temp-tree.ts";
import { type ServiceTree, serviceTree } from "../../test/fixtures/worktree-service.ts";
import { recordWorktree } from "../sandbox/git-layout.ts";
import { untrackedWorktrees } from "./adopt.ts";
import type { WorktreeService } from "./service.ts";

let tree: TempTree;
let svc: WorktreeService;
let git: ServiceTree["git"];

/** `proj` with linked worktrees made by plain git: beside it, elsewhere, detached, and gone. */
beforeEach(async () => {
  ({ tree, svc, git } = await serviceTree((at) => [
    ["-b", "manual", at("proj__worktrees/manual")],
    ["-b", "far", at("elsewhere/far")],
    ["--detach", at("proj__worktrees/headless")],
    ["-b", "gone", at("proj__worktrees/gone")],
  ]));
  await rm(tree.at("proj__worktrees/gone"), { recursive: true });
});
afterEach(async () => {
  await tree.remove();
});

const repo = () => ({ root: tree.at("proj"), commonDir: tree.at("proj/.git") });
const untracked = (tracked: string[] = []) => untrackedWorktrees(svc, repo(), new Set(tracked));

describe("linked worktrees wm has no entry for", () => {
  it("are every one git lists with a branch, handle = directory name; detached ones are told apart", async () => {
    const found = await untracked();
    expect(found.entries.map((e) => [e.handle, e.branch, e.path]).sort()).toEqual([
      ["far", "far", tree.at("elsewhere/far")],
      ["manual", "manual", tree.at("proj__worktrees/manual")],
    ]);
    expect(found.entries.find((e) => e.handle === "manual")).toMatchObject({
      repo: tree.at("proj"),
      commonDir: tree.at("proj/.git"),
      adminDir: tree.at("proj/.git/worktrees/manual"),
      sandbox: false,
      tmux: null,
      status: null,
    });
    expect(found.detached).toEqual([tree.at("proj__worktrees/headless")]);
    const rest = await untracked([tree.at("proj__worktrees/manual")]);
    expect(rest.entries.map((e) => e.handle)).toEqual(["far"]);
  });

  it("one whose .git file leads to another worktree's admin dir is left out (control: it was there)", async () => {
    expect((await untracked()).entries.map((e) => e.handle)).toContain("far");
    await writeFile(
      tree.at("elsewhere/far/.git"),
      `gitdir: ${tree.at("proj/.git/worktrees/manual")}\n`,
    );
    const entries = (await untracked()).entries;
    expect(entries.map((e) => e.handle)).toEqual(["manual"]);
    expect(entries[0]?.path).toBe(tree.at("proj__worktrees/manual"));
  });

  it("where a sandbox ran, the branch is the one recorded then, whatever HEAD says now", async () => {
    const wt = tree.at("proj__worktrees/manual");
    const record = await recordWorktree(wt);
    // What an agent can do from inside: point its worktree's HEAD at another branch.
    git(wt, "symbolic-ref", "HEAD", "refs/heads/main");
    const unrecorded = (await untracked()).entries.find((e) => e.path === wt);
    expect(unrecorded?.branch).toBe("main");
    await svc.daemon.worktreeRecords.remember(record);
    const recorded = (await untracked()).entries.find((e) => e.path === wt);
    expect(recorded?.branch).toBe("manual");
    expect(recorded?.adminDir).toBe(record.adminDir);
  });

  it("are sandboxed when the configuration enables sandboxes, or one ran there", async () => {
    await writeFile(
      tree.at("home/.config/workmux/config.yaml"),
      'agent: "echo"\nsandbox:\n  enabled: true\n',
    );
    expect((await untracked()).entries.every((e) => e.sandbox)).toBe(true);
    await writeFile(tree.at("home/.config/workmux/config.yaml"), 'agent: "echo"\n');
    const record = await recordWorktree(tree.at("elsewhere/far"));
    await mkdir(svc.daemon.sandboxes.gitShadows.target(record).shadow.dir, { recursive: true });
    const flags = Object.fromEntries((await untracked()).entries.map((e) => [e.handle, e.sandbox]));
    expect(flags).toEqual({ far: true, manual: false });
  });
});
