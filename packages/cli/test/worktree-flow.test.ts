import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const GLOBAL = `agent: "echo agent-started"
status_icons: { working: "W!", waiting: "#[fg=yellow]Q?", done: "D+" }
panes:
  - command: <agent>
    focus: true
  - command: echo second-pane
    split: horizontal
    percentage: 30
`;

let bench: Workbench;
beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL });
});
afterAll(async () => {
  await bench.cleanup();
});

type Added = { worktree: WorktreeSummary; branchCreated: boolean; panes: string[] };

describe("wm add → list → open → status → close → open → merge → rm", () => {
  let wt: WorktreeSummary;

  it("add creates the worktree beside the repo, a branch, and a window with the configured panes", async () => {
    const res = await bench.wmJson<Added>(["add", "feature/one"]);
    wt = res.worktree;
    expect(wt.path).toBe(path.join(path.dirname(bench.repo), "proj__worktrees", "feature-one"));
    expect(res.branchCreated).toBe(true);
    expect(bench.git(wt.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe("feature/one");
    expect(res.panes).toHaveLength(2);
    const win = bench.windows().find((w) => w.worktree === wt.path);
    expect(win?.name).toBe("wm-feature-one");
    expect(
      bench.tmux("list-panes", "-t", win?.id as string, "-F", "#{pane_id}").split("\n"),
    ).toEqual(res.panes);
    const [agentPane, second] = res.panes as [string, string];
    await eventually(
      () => bench.tmux("capture-pane", "-p", "-t", agentPane).includes("\nagent-started"),
      "agent output",
    );
    await eventually(
      () => bench.tmux("capture-pane", "-p", "-t", second).includes("\nsecond-pane"),
      "second pane",
    );
    const width = (p: string) =>
      Number(bench.tmux("display-message", "-p", "-t", p, "#{pane_width}"));
    expect(width(second)).toBeLessThan(width(agentPane));
    expect(bench.tmux("display-message", "-p", "-t", win?.id as string, "#{pane_id}")).toBe(
      agentPane,
    );
  });

  it("list shows the worktree with its branch, window and no status yet", async () => {
    const { worktrees } = await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list"]);
    expect(worktrees).toHaveLength(1);
    expect(worktrees[0]).toMatchObject({
      handle: "feature-one",
      branch: "feature/one",
      status: null,
      exists: true,
    });
    expect(worktrees[0]?.window?.name).toBe("wm-feature-one");
    const text = await bench.wm(["list"]);
    expect(text.stdout).toMatch(/feature-one\s+feature\/one\s+-\s+@\d+ wm-feature-one/);
  });

  it("open selects the existing window", async () => {
    bench.tmux("select-window", "-t", "main:0");
    const res = await bench.wmJson<{ created: boolean; worktree: WorktreeSummary }>([
      "open",
      "feature-one",
    ]);
    expect(res.created).toBe(false);
    expect(bench.tmux("display-message", "-p", "-t", "main", "#{window_id}")).toBe(
      res.worktree.window?.id,
    );
  });

  it("status set from an agent in the worktree shows the icon in the window name and @wm_status", async () => {
    const pane = bench.tmux("display-message", "-p", "-t", wt.window?.id as string, "#{pane_id}");
    const env = { ...bench.env, TMUX_PANE: pane };
    const res = await bench.wm(["status", "set", "working"], { cwd: path.join(wt.path), env });
    expect(res.code, res.stderr).toBe(0);
    const line = () =>
      bench.tmux("list-windows", "-t", "main", "-F", "#{window_name} #{@wm_status}");
    expect(line()).toContain("wm-feature-one W! working");
    await fs.mkdir(path.join(wt.path, "sub"));
    await bench.wm(["status", "set", "waiting"], { cwd: path.join(wt.path, "sub"), env });
    expect(line()).toContain("wm-feature-one Q? waiting");
    expect(
      bench.tmux("show-options", "-wqv", "-t", wt.window?.id as string, "@wm_status_icon"),
    ).toBe("#[fg=yellow]Q?");
    expect(
      bench.tmux("show-options", "-wqv", "-t", wt.window?.id as string, "window-status-format"),
    ).toContain("#{@wm_status_icon}");
    const status = await bench.wmJson<{ current: string | null; worktrees: WorktreeSummary[] }>(
      ["status"],
      { cwd: wt.path },
    );
    expect(status.current).toBe("feature-one");
    expect(status.worktrees[0]?.status).toBe("waiting");
  });

  it("focusing the window clears waiting/done (tmux hook), but not working", async () => {
    const id = wt.window?.id as string;
    bench.tmux("select-window", "-t", "main:0");
    bench.tmux("select-window", "-t", id);
    await eventually(
      () =>
        bench.tmux("show-options", "-wqv", "-t", id, "@wm_status") === "" &&
        bench.tmux("display-message", "-p", "-t", id, "#{window_name}") === "wm-feature-one",
      "status and its icon cleared",
    );
    await bench.wm(["status", "set", "working"], { cwd: wt.path });
    bench.tmux("select-window", "-t", "main:0");
    bench.tmux("select-window", "-t", id);
    await new Promise((r) => setTimeout(r, 1500));
    expect(bench.tmux("show-options", "-wqv", "-t", id, "@wm_status")).toBe("working");
  });

  it("close kills the window and keeps the worktree; open makes it again with its status", async () => {
    await bench.wm(["status", "set", "done"], { cwd: wt.path });
    const closed = await bench.wmJson<{ closed: boolean; worktree: WorktreeSummary }>([
      "close",
      "feature-one",
    ]);
    expect(closed.closed).toBe(true);
    expect(closed.worktree.window).toBeNull();
    expect(bench.windows().some((w) => w.worktree === wt.path)).toBe(false);
    expect(existsSync(wt.path)).toBe(true);
    const opened = await bench.wmJson<{ created: boolean; worktree: WorktreeSummary }>([
      "open",
      "feature/one",
    ]);
    expect(opened.created).toBe(true);
    const win = bench.windows().find((w) => w.worktree === wt.path);
    expect(win?.name).toBe("wm-feature-one D+");
    expect(win?.status).toBe("done");
    wt = opened.worktree;
  });

  it("keeps worktree state across a daemon restart", async () => {
    expect((await bench.wm(["daemon", "stop"])).code).toBe(0);
    const { worktrees } = await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list"]);
    expect(worktrees[0]).toMatchObject({ handle: "feature-one", status: "done" });
    expect(worktrees[0]?.window?.id).toBe(wt.window?.id);
  });

  it("rm refuses a branch with unmerged commits; merge merges it and removes worktree, branch and window", async () => {
    await fs.writeFile(path.join(wt.path, "work.txt"), "agent work\n");
    bench.git(wt.path, "add", "work.txt");
    bench.git(
      wt.path,
      "-c",
      "user.name=Agent",
      "-c",
      "user.email=agent@example.invalid",
      "commit",
      "-q",
      "-m",
      "agent work",
    );
    await fs.writeFile(path.join(bench.repo, "main.txt"), "main moved on\n");
    bench.git(bench.repo, "add", "main.txt");
    bench.git(bench.repo, "commit", "-q", "-m", "main moved on");
    const refused = await bench.wm(["rm", "feature-one"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("not merged into main");
    const merged = await bench.wmJson<{ target: string; removed: boolean; commit: string }>([
      "merge",
      "feature-one",
    ]);
    expect(merged).toMatchObject({ target: "main", removed: true });
    expect(bench.git(bench.repo, "log", "-1", "--format=%P %an")).toMatch(/^\w+ \w+ Repo User$/);
    expect(await fs.readFile(path.join(bench.repo, "work.txt"), "utf8")).toBe("agent work\n");
    expect(existsSync(wt.path)).toBe(false);
    expect(bench.git(bench.repo, "branch", "--list", "feature/one")).toBe("");
    expect(bench.windows().some((w) => w.worktree === wt.path)).toBe(false);
    expect((await bench.wmJson<{ worktrees: unknown[] }>(["list"])).worktrees).toEqual([]);
  });

  it("rm refuses uncommitted work unless -f, and --keep-branch keeps the branch", async () => {
    const { worktree } = await bench.wmJson<Added>(["add", "two", "--background"]);
    await fs.writeFile(path.join(worktree.path, "scratch.txt"), "not committed\n");
    const refused = await bench.wm(["rm", "two"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("uncommitted changes");
    expect(refused.stderr).toContain("scratch.txt");
    expect(existsSync(worktree.path)).toBe(true);
    const forced = await bench.wmJson<{ branchDeleted: boolean }>([
      "rm",
      "two",
      "-f",
      "--keep-branch",
    ]);
    expect(forced.branchDeleted).toBe(false);
    expect(existsSync(worktree.path)).toBe(false);
    expect(bench.git(bench.repo, "branch", "--list", "two")).toContain("two");
    const again = await bench.wmJson<Added>(["add", "two", "--background"]);
    expect(again.branchCreated).toBe(false);
    const removed = await bench.wmJson<{ branchDeleted: boolean }>(["rm", "two"]);
    expect(removed.branchDeleted).toBe(true);
    expect(bench.git(bench.repo, "branch", "--list", "two")).toBe("");
  });
});
