import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { WM_BIN } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * The [y/N] questions of `wm rm --all` and `wm merge`, answered through a real terminal: each
 * command runs in a window of its own on the bench's tmux server, the test waits for the
 * question on its screen, types the answer and waits for the exit code the window prints.
 */
let bench: Workbench;
let runs = 0;

/** Runs `wm ARGS` in a new tmux window; its pane id. The pane stays open after wm exits. */
function inTerminal(args: string): string {
  const marker = `run-${++runs}`;
  const line = `cd '${bench.repo}' && '${process.execPath}' '${WM_BIN}' ${args}; echo "${marker} exited $?"; exec cat`;
  return bench.tmux(
    ...["new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "main:", "-n", marker],
    ...["sh", "-c", line],
  );
}

const screen = (pane: string) => bench.tmux("capture-pane", "-p", "-J", "-t", pane);
const waitFor = (pane: string, text: string | RegExp, what: string) =>
  eventually(() => {
    const s = screen(pane);
    return (typeof text === "string" ? s.includes(text) : text.test(s)) ? s : undefined;
  }, `${what} on the screen of ${pane}`);
const answer = (pane: string, key: string) => bench.tmux("send-keys", "-t", pane, key, "Enter");
const exitOf = async (pane: string) => {
  const s = await waitFor(pane, /run-\d+ exited \d+/, "the exit code");
  return Number(/run-\d+ exited (\d+)/.exec(s ?? "")?.[1]);
};
const worktrees = () =>
  bench
    .git(bench.repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree "));
const branches = () => bench.git(bench.repo, "branch", "--format=%(refname:short)").split("\n");

beforeAll(async () => {
  bench = await makeWorkbench({ project: "status_icons:\n  done: ok\n" });
});
afterAll(async () => {
  await bench?.cleanup();
});

describe("wm rm --all asks on a terminal", () => {
  it("without a terminal and without -f it refuses, naming -f, and removes nothing", async () => {
    for (const b of ["one", "two"]) await bench.wmJson(["add", b, "-b"]);
    const res = await bench.wm(["rm", "--all"]);
    expect(res.code).toBe(6);
    expect(res.stderr).toContain("wm rm --all would remove 2 worktree(s); nothing was removed");
    expect(res.stderr).toContain("pass -f");
    expect(worktrees()).toHaveLength(3);
  });

  it("answering n keeps every worktree and branch", async () => {
    const pane = inTerminal("rm --all");
    await waitFor(pane, "Remove 2 worktree(s)? [y/N]", "the question");
    answer(pane, "n");
    expect(await exitOf(pane)).toBe(6);
    expect(screen(pane)).toContain("nothing was removed");
    expect(worktrees()).toHaveLength(3);
    expect(branches()).toEqual(expect.arrayContaining(["one", "two"]));
  });

  it("answering y removes the worktrees, their windows and branches", async () => {
    const pane = inTerminal("rm --all");
    await waitFor(pane, "Remove 2 worktree(s)? [y/N]", "the question");
    answer(pane, "y");
    expect(await exitOf(pane)).toBe(0);
    expect(worktrees()).toHaveLength(1);
    expect(branches()).not.toEqual(expect.arrayContaining(["one"]));
    expect(branches()).not.toContain("two");
    expect(bench.windows().map((w) => w.name)).not.toContain("wm-one");
  });
});

describe("wm merge of a change to host-run settings asks on a terminal", () => {
  let wt: WorktreeSummary;

  beforeAll(async () => {
    wt = (await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "hooks", "-b"])).worktree;
    await fs.writeFile(
      path.join(wt.path, ".workmux.yaml"),
      "status_icons:\n  done: ok\npost_create:\n  - echo from-the-branch\n",
    );
    bench.git(wt.path, "add", ".workmux.yaml");
    bench.git(
      wt.path,
      "-c",
      "user.name=A",
      "-c",
      "user.email=a@example.invalid",
      "commit",
      "-qm",
      "hooks",
    );
  });

  it("answering n merges nothing", async () => {
    const main = bench.git(bench.repo, "rev-parse", "main");
    const pane = inTerminal("merge hooks");
    await waitFor(pane, "Apply these changes to what wm runs on this host? [y/N]", "the question");
    expect(screen(pane)).toContain("echo from-the-branch");
    answer(pane, "n");
    expect(await exitOf(pane)).toBe(6);
    expect(screen(pane)).toContain("not merged; nothing was changed");
    expect(bench.git(bench.repo, "rev-parse", "main")).toBe(main);
    expect(existsSync(wt.path)).toBe(true);
  });

  it("answering y merges and removes the worktree", async () => {
    const pane = inTerminal("merge hooks");
    await waitFor(pane, "Apply these changes to what wm runs on this host? [y/N]", "the question");
    answer(pane, "y");
    expect(await exitOf(pane)).toBe(0);
    expect(bench.git(bench.repo, "show", "main:.workmux.yaml")).toContain("echo from-the-branch");
    expect(existsSync(wt.path)).toBe(false);
    expect(branches()).not.toContain("hooks");
  });
});
