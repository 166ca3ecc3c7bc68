import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const MAIN_PROJECT = `post_create:
  - 'printf "%s|%s|%s|%s|%s" "$WM_HANDLE" "$WM_WORKTREE_PATH" "$WM_PROJECT_ROOT" "$WM_CONFIG_DIR" "$PWD" > "$HOME/main-post-create"'
pre_merge:
  - 'printf "%s>%s" "$WM_BRANCH_NAME" "$WM_TARGET_BRANCH" > "$HOME/main-pre-merge"'
pre_remove:
  - 'touch "$HOME/main-pre-remove-$WM_HANDLE"'
`;

/** What an agent writes into its own worktree's project file. */
const AGENT_PROJECT = `post_create: ['touch "$HOME/agent-post-create"']
pre_merge: ['touch "$HOME/agent-pre-merge"']
pre_remove: ['touch "$HOME/agent-pre-remove"']
files: { copy: ["../../secret"] }
panes: [{ command: 'touch "$HOME/agent-pane"' }]
`;

let bench: Workbench;
const marker = (name: string) => path.join(bench.home.root, name);

beforeAll(async () => {
  bench = await makeWorkbench({ project: MAIN_PROJECT });
  for (const branch of ["agent-one", "agent-two"]) {
    bench.git(bench.repo, "checkout", "-q", "-b", branch);
    await fs.writeFile(path.join(bench.repo, ".workmux.yaml"), AGENT_PROJECT);
    bench.git(bench.repo, "commit", "-q", "-am", "the agent's own project file");
    bench.git(bench.repo, "checkout", "-q", "main");
  }
});
afterAll(async () => {
  await bench.cleanup();
});

describe("hooks come from the global file and the main worktree's .workmux.yaml only", () => {
  let one: WorktreeSummary;

  it("post_create runs the main worktree's command with the documented environment, never the worktree's", async () => {
    one = (await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "agent-one"])).worktree;
    expect(await fs.readFile(path.join(one.path, ".workmux.yaml"), "utf8")).toBe(AGENT_PROJECT);
    const vars = (await fs.readFile(marker("main-post-create"), "utf8")).split("|");
    expect(vars).toEqual(["agent-one", one.path, bench.repo, bench.repo, one.path]);
    expect(existsSync(marker("agent-post-create"))).toBe(false);
    const pane = bench.tmux("display-message", "-p", "-t", one.window?.id as string, "#{pane_id}");
    await eventually(
      () => bench.tmux("capture-pane", "-p", "-t", pane).includes("\nagent-started"),
      "agent pane",
    );
    expect(existsSync(marker("agent-pane"))).toBe(false);
  });

  it("pre_merge and the cleanup's pre_remove run from the main worktree's file, not the agent's", async () => {
    const merged = await bench.wmJson<{ hooks: { hook: string }[] }>([
      "merge",
      "agent-one",
      "--yes",
    ]);
    expect(merged.hooks.map((h) => h.hook)).toEqual(["pre_merge", "pre_remove"]);
    expect(await fs.readFile(marker("main-pre-merge"), "utf8")).toBe("agent-one>main");
    expect(existsSync(marker("main-pre-remove-agent-one"))).toBe(true);
    expect(existsSync(marker("agent-pre-merge"))).toBe(false);
    expect(existsSync(marker("agent-pre-remove"))).toBe(false);
    bench.git(bench.repo, "checkout", "-q", "HEAD~1", "--", ".workmux.yaml");
    bench.git(bench.repo, "commit", "-q", "-m", "back to the main project file");
  });

  it("wm rm runs the main worktree's pre_remove, not the agent's", async () => {
    await bench.wmJson(["add", "agent-two", "-b"]);
    await sleep(300);
    await bench.wmJson(["rm", "agent-two", "-f"]);
    expect(existsSync(marker("main-pre-remove-agent-two"))).toBe(true);
    expect(existsSync(marker("agent-pre-remove"))).toBe(false);
    expect(existsSync(marker("agent-pane"))).toBe(false);
  });

  it("a failing post_create undoes the add and shows the hook's output", async () => {
    await fs.writeFile(
      path.join(bench.repo, ".workmux.yaml"),
      "post_create: ['echo boom-output; exit 3']\n",
    );
    const res = await bench.wm(["add", "doomed", "-b"]);
    bench.git(bench.repo, "checkout", "-q", "--", ".workmux.yaml");
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "post_create hook `echo boom-output; exit 3` exited with 3; the worktree was removed again",
    );
    expect(res.stderr).toContain("boom-output");
    expect(existsSync(path.join(path.dirname(bench.repo), "proj__worktrees", "doomed"))).toBe(
      false,
    );
    expect(bench.git(bench.repo, "branch", "--list", "doomed")).toBe("");
    expect(bench.git(bench.repo, "worktree", "list", "--porcelain")).not.toContain("doomed");
    expect((await bench.wmJson<{ worktrees: unknown[] }>(["list"])).worktrees).toEqual([]);
  });
});
