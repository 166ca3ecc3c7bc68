import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * Worktrees wm did not make — `git worktree add` by hand, or a workmux user's — are worktrees
 * like any other: `git worktree list` is the source of truth, wm's records only add to it.
 */
const GLOBAL = [
  "agent: demo",
  "agents:",
  "  demo:",
  "    command: sh",
  // In a sandbox the agent leaves a mark in its worktree; on the host it only idles.
  `    args: ["-c", ${JSON.stringify('[ "$WM_SANDBOX_GUEST" = 1 ] && echo "guest $WM_WORKTREE" > .in-sandbox; sleep 60')}]`,
  "",
].join("\n");

let bench: Workbench;
beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL });
  await fs.appendFile(path.join(bench.repo, ".git", "info", "exclude"), ".in-sandbox\n");
});
afterAll(async () => {
  await bench?.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
  await bench?.cleanup();
});

const trees = () => path.join(path.dirname(bench.repo), "proj__worktrees");

/** `git worktree add` by hand, as a user (or workmux) does. */
function manual(dir: string, branch: string): string {
  const wt = path.join(dir, branch);
  bench.git(bench.repo, "worktree", "add", "-q", "-b", branch, wt);
  return wt;
}

function commitIn(wt: string, file: string): void {
  bench.git(
    wt,
    "-c",
    "user.name=U",
    "-c",
    "user.email=u@example.invalid",
    "commit",
    "-q",
    "--allow-empty",
    "-m",
    file,
  );
}

const listed = async (args: string[] = []) =>
  (await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list", ...args])).worktrees;

describe("linked worktrees wm did not make", () => {
  let wt: string;

  it("wm list shows a worktree made with plain `git worktree add`, from the repository and with --all", async () => {
    wt = manual(trees(), "manual");
    const elsewhere = manual(path.join(bench.home.root, "elsewhere"), "far");
    const mine = await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "mine", "-b"]);
    const rows = await listed();
    expect(rows.map((w) => [w.handle, w.branch, w.path, w.exists, w.window]).sort()).toEqual(
      [
        ["far", "far", elsewhere, true, null],
        ["manual", "manual", wt, true, null],
        ["mine", "mine", mine.worktree.path, true, mine.worktree.window],
      ].sort(),
    );
    expect((await listed(["--all"])).map((w) => w.handle).sort()).toEqual([
      "far",
      "manual",
      "mine",
    ]);
    const text = await bench.wm(["list"], { cwd: wt });
    expect(text.stdout).toMatch(/manual\s+manual/);
    // It is listed, not stored: nothing was written for it.
    const state = await fs.readFile(
      path.join(bench.home.stateDir, "tracked-worktrees.json"),
      "utf8",
    );
    expect(state).not.toContain(wt);
  });

  it("wm open opens its window (once), in the worktree, and wm keeps a record of it from then on", async () => {
    const opened = await bench.wmJson<{ created: boolean; worktree: WorktreeSummary }>([
      "open",
      "manual",
    ]);
    expect(opened.created).toBe(true);
    const wins = bench.windows().filter((w) => w.worktree === wt);
    expect(wins.map((w) => w.name)).toEqual(["wm-manual"]);
    const pane = bench.tmux("display-message", "-p", "-t", wins[0]?.id as string, "#{pane_id}");
    await eventually(
      () => bench.tmux("display-message", "-p", "-t", pane, "#{pane_current_path}") === wt,
      "the pane's shell in the worktree",
    );
    const again = await bench.wmJson<{ created: boolean }>(["open", "manual"]);
    expect(again.created).toBe(false);
    expect(bench.windows().filter((w) => w.worktree === wt)).toHaveLength(1);
    const row = (await listed()).find((w) => w.handle === "manual");
    expect(row?.window?.id).toBe(wins[0]?.id);
    const state = await fs.readFile(
      path.join(bench.home.stateDir, "tracked-worktrees.json"),
      "utf8",
    );
    expect(state).toContain(wt);
  });

  it("wm rm removes it: refused while it holds unmerged commits, then window, worktree and branch go", async () => {
    commitIn(wt, "unmerged");
    const refused = await bench.wm(["rm", "manual"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("not merged into main");
    const removed = await bench.wmJson<{ branchDeleted: boolean }>(["rm", "manual", "-f"]);
    expect(removed.branchDeleted).toBe(true);
    expect(existsSync(wt)).toBe(false);
    expect(bench.git(bench.repo, "branch", "--list", "manual")).toBe("");
    expect(bench.windows().some((w) => w.worktree === wt)).toBe(false);
    expect((await listed()).map((w) => w.handle).sort()).toEqual(["far", "mine"]);
  });

  it("wm merge merges one by its branch name and removes it", async () => {
    const other = manual(trees(), "to-merge");
    await fs.writeFile(path.join(other, "merged.txt"), "from a manual worktree\n");
    bench.git(other, "add", "merged.txt");
    commitIn(other, "merged.txt");
    const merged = await bench.wmJson<{ target: string; removed: boolean }>(["merge", "to-merge"]);
    expect(merged).toMatchObject({ target: "main", removed: true });
    expect(await fs.readFile(path.join(bench.repo, "merged.txt"), "utf8")).toBe(
      "from a manual worktree\n",
    );
    expect(existsSync(other)).toBe(false);
    expect(bench.git(bench.repo, "branch", "--list", "to-merge")).toBe("");
  });

  it("a detached worktree is not listed, and naming it says why and what to do", async () => {
    const detached = path.join(trees(), "headless");
    bench.git(bench.repo, "worktree", "add", "-q", "--detach", detached);
    expect((await listed()).some((w) => w.path === detached)).toBe(false);
    const res = await bench.wm(["open", "headless"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("detached HEAD");
    expect(res.stderr).toContain("switch -c");
  });

  it("wm add of its branch says it exists and how to open it; --open-if-exists opens it", async () => {
    const res = await bench.wm(["add", "far"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('worktree "far" already exists');
    const opened = await bench.wmJson<{ opened: boolean; worktree: WorktreeSummary }>([
      "add",
      "far",
      "--open-if-exists",
      "-b",
    ]);
    expect(opened.opened).toBe(true);
    expect(opened.worktree.path).toBe(path.join(bench.home.root, "elsewhere", "far"));
    expect(bench.windows().filter((w) => w.worktree === opened.worktree.path)).toHaveLength(1);
  });
});

describe("a worktree wm did not make, opened sandboxed", () => {
  beforeAll(async () => {
    const built = await bench.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
    expect(built.code, built.stderr).toBe(0);
  }, 320_000);

  it("wm open --sandbox runs its agent in a sandbox; --no-sandbox while that window is open is refused", async () => {
    const wt = manual(trees(), "boxed");
    const opened = await bench.wmJson<{ created: boolean; worktree: WorktreeSummary }>([
      "open",
      "boxed",
      "--sandbox",
    ]);
    expect(opened.created).toBe(true);
    expect(opened.worktree.sandbox).toBe(true);
    const mark = await eventually(
      () => fs.readFile(path.join(wt, ".in-sandbox"), "utf8").catch(() => ""),
      "the agent's mark from inside the sandbox",
      90_000,
    );
    expect(mark).toBe(`guest ${wt}\n`);
    const boxes = await bench.wmJson<{ sandboxes: Array<{ worktree: string }> }>([
      "sandbox",
      "list",
    ]);
    expect(boxes.sandboxes.map((s) => s.worktree)).toContain(wt);
    expect((await listed()).find((w) => w.handle === "boxed")?.sandbox).toBe(true);
    const refused = await bench.wm(["open", "boxed", "--no-sandbox"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("wm close boxed");
  }, 120_000);
});
