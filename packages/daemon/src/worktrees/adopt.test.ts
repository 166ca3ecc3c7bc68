import { execFileSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type TempTree, tempTree } from "../../test/fixtures/config/temp-tree.ts";
import type { DaemonContext } from "../context.ts";
import { EventBus } from "../events.ts";
import { createLogger } from "../log.ts";
import { recordWorktree } from "../sandbox/git-layout.ts";
import { SandboxManager } from "../sandbox/manager.ts";
import { WorktreeStore } from "../sandbox/worktree-store.ts";
import { untrackedWorktrees } from "./adopt.ts";
import { WorktreeService } from "./service.ts";

let tree: TempTree;
let svc: WorktreeService;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=wm", "-c", "user.email=wm@example.invalid", ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: tree.root },
    encoding: "utf8",
  });

/** `proj` with linked worktrees made by plain git: beside it, elsewhere, detached, and gone. */
beforeEach(async () => {
  tree = await tempTree({ "proj/README.md": "hello\n", "state/": "", "home/": "" });
  git(tree.at("proj"), "init", "-q", "-b", "main");
  git(tree.at("proj"), "add", ".");
  git(tree.at("proj"), "commit", "-q", "-m", "initial");
  const add = (...args: string[]) => git(tree.at("proj"), "worktree", "add", "-q", ...args);
  add("-b", "manual", tree.at("proj__worktrees/manual"));
  add("-b", "far", tree.at("elsewhere/far"));
  add("--detach", tree.at("proj__worktrees/headless"));
  add("-b", "gone", tree.at("proj__worktrees/gone"));
  await rm(tree.at("proj__worktrees/gone"), { recursive: true });
  await mkdir(tree.at("home/.config/workmux"), { recursive: true });
  await writeFile(tree.at("home/.config/workmux/config.yaml"), 'agent: "echo"\n');
  const daemon = {
    paths: { stateDir: tree.at("state") },
    env: { PATH: process.env.PATH, HOME: tree.at("home") },
    homedir: tree.at("home"),
    log: createLogger({ level: "silent" }),
    events: new EventBus(),
    worktreeRecords: new WorktreeStore(tree.at("state"), createLogger({ level: "silent" })),
  } as unknown as DaemonContext;
  daemon.sandboxes = new SandboxManager(daemon);
  await daemon.sandboxes.registry.load(process.getuid?.() ?? 0);
  svc = new WorktreeService(daemon);
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
