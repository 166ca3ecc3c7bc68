import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type TempTree, tempTree } from "../../test/fixtures/config/temp-tree.ts";
import { loadConfig } from "../config/index.ts";
import { findProjectFiles } from "../config/locate.ts";
import type { DaemonContext } from "../context.ts";
import { createLogger } from "../log.ts";
import { WorktreeStore } from "../sandbox/worktree-store.ts";
import { type KnownWorktree, knownWorktrees, repoOf } from "./repo.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=wm", "-c", "user.email=wm@example.invalid", ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd },
    encoding: "utf8",
  });

const NESTED_PROJECT = "post_create: ['touch /tmp/wm-nested-marker']\nmode: session\n";

/**
 * `main` with one commit and a linked worktree `wt` made by plain `git worktree add`; inside
 * `wt`, what an agent can plant there: `src/` as a repository of its own with a project file.
 */
async function linkedWithNestedRepo(): Promise<TempTree> {
  const t = await tempTree({ "main/README.md": "hello\n", "home/": "" });
  git(t.at("main"), "init", "-q", "-b", "main");
  git(t.at("main"), "add", ".");
  git(t.at("main"), "commit", "-q", "-m", "initial");
  git(t.at("main"), "worktree", "add", "-q", "-b", "wt", t.at("wt"));
  await mkdir(t.at("wt/src/deep"), { recursive: true });
  git(t.at("wt/src"), "init", "-q", "-b", "main");
  await writeFile(t.at("wt/src/.workmux.yaml"), NESTED_PROJECT);
  return t;
}

const mainRepo = (t: TempTree) => ({ root: t.at("main"), commonDir: t.at("main/.git") });

describe("repoOf inside a linked worktree", () => {
  it("resolves a planted nested repository to the linked worktree's main repository", async () => {
    tree = await linkedWithNestedRepo();
    for (const cwd of ["wt", "wt/src", "wt/src/deep"]) {
      expect(await repoOf(tree.at(cwd), []), cwd).toEqual(mainRepo(tree));
    }
  });

  it("ignores a nested linked worktree the agent made of its own repository", async () => {
    tree = await linkedWithNestedRepo();
    git(tree.at("wt/src"), "commit", "-q", "--allow-empty", "-m", "own");
    git(tree.at("wt/src"), "worktree", "add", "-q", "-b", "inner", tree.at("wt/inner"));
    expect(await repoOf(tree.at("wt/inner"), [])).toEqual(mainRepo(tree));
  });

  it("takes the daemon's record over the worktree's git files", async () => {
    tree = await linkedWithNestedRepo();
    // The admin dir's back pointer no longer agrees, so git's files alone do not show `wt` as a
    // linked worktree: without the record the nearest `.git` (the planted one) would win.
    await writeFile(tree.at("main/.git/worktrees/wt/gitdir"), "/elsewhere/.git\n");
    expect(await repoOf(tree.at("wt/src"), [])).toEqual({
      root: tree.at("wt/src"),
      commonDir: tree.at("wt/src/.git"),
    });
    const known: KnownWorktree[] = [
      { path: tree.at("wt"), repo: tree.at("main"), commonDir: tree.at("main/.git") },
    ];
    expect(await repoOf(tree.at("wt/src/deep"), known)).toEqual(mainRepo(tree));
  });

  it("a record of a worktree without a main worktree answers: no repository", async () => {
    tree = await linkedWithNestedRepo();
    const known: KnownWorktree[] = [{ path: tree.at("wt"), repo: null, commonDir: "/bare.git" }];
    expect(await repoOf(tree.at("wt/src"), known)).toBeUndefined();
  });
});

describe("repoOf outside linked worktrees (unchanged)", () => {
  it("resolves a repository nested in a main worktree to itself", async () => {
    // Safe: a main worktree is never mounted into a sandbox, so no agent wrote this nesting;
    // it is the user's own layout (a vendored checkout, say).
    tree = await tempTree({ "outer/README.md": "x\n", "outer/vendor/lib/README.md": "y\n" });
    git(tree.at("outer"), "init", "-q");
    git(tree.at("outer/vendor/lib"), "init", "-q");
    expect(await repoOf(tree.at("outer/vendor/lib"), [])).toEqual({
      root: tree.at("outer/vendor/lib"),
      commonDir: tree.at("outer/vendor/lib/.git"),
    });
    expect(await repoOf(tree.at("outer/vendor"), [])).toEqual({
      root: tree.at("outer"),
      commonDir: tree.at("outer/.git"),
    });
  });

  it("is undefined outside any repository and for a `.git` file that leads nowhere", async () => {
    tree = await tempTree({ "plain/x": "", "fake/.git": "gitdir: /nowhere\n" });
    expect(await repoOf(tree.at("plain"), [])).toBeUndefined();
    expect(await repoOf(tree.at("fake"), [])).toBeUndefined();
  });
});

describe("knownWorktrees", () => {
  it("adds the worktrees sandboxes ran in and the sandbox records, while they are still worktrees", async () => {
    tree = await linkedWithNestedRepo();
    await mkdir(tree.at("state"));
    await mkdir(tree.at("gone"));
    const record = (p: string) => ({
      worktreePath: p,
      commonDir: tree?.at("main/.git"),
      adminDir: tree?.at("main/.git/worktrees/wt"),
    });
    await writeFile(
      tree.at("state/worktrees.json"),
      JSON.stringify({
        [tree.at("wt")]: record(tree.at("wt")),
        [tree.at("gone")]: record(tree.at("gone")),
      }),
    );
    const daemon = {
      worktreeRecords: new WorktreeStore(tree.at("state"), createLogger({ level: "silent" })),
      sandboxes: {
        registry: {
          all: () => [
            { worktree: tree?.at("wt"), git: { commonDir: tree?.at("main/.git"), adminDir: "" } },
            { worktree: tree?.at("gone"), git: { commonDir: "/x/.git", adminDir: "" } },
          ],
        },
      },
    } as unknown as DaemonContext;
    const known = await knownWorktrees(daemon, []);
    expect(known).toEqual([
      { path: tree.at("wt"), repo: tree.at("main"), commonDir: tree.at("main/.git") },
      { path: tree.at("wt"), repo: tree.at("main"), commonDir: tree.at("main/.git") },
    ]);
  });
});

describe("config lookup inside a linked worktree", () => {
  it("never treats a planted repository as a main worktree: its project file gives safe keys only", async () => {
    tree = await linkedWithNestedRepo();
    const found = await findProjectFiles({ cwd: tree.at("wt/src/deep") });
    expect(found.repoRoot).toBe(tree.at("wt"));
    expect(found.mainWorktreeRoot).toBe(tree.at("main"));
    expect(found.trusted).toBeNull();
    const loaded = await loadConfig({
      cwd: tree.at("wt/src"),
      env: {},
      homedir: tree.at("home"),
    });
    expect(loaded.files.project).toBe(tree.at("wt/src/.workmux.yaml"));
    expect(loaded.config.post_create).toBeUndefined();
    expect(loaded.config.mode).toBe("session");
    expect(loaded.warnings.map((w) => w.key)).toEqual(["post_create"]);
  });

  it("control: the same repository standing alone is a main worktree, and its file applies in full", async () => {
    tree = await tempTree({ "alone/.workmux.yaml": NESTED_PROJECT, "home/": "" });
    git(tree.at("alone"), "init", "-q");
    const loaded = await loadConfig({ cwd: tree.at("alone"), env: {}, homedir: tree.at("home") });
    expect(loaded.config.post_create).toEqual(["touch /tmp/wm-nested-marker"]);
  });
});
