import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * A monorepo: the root `.workmux.yaml` and a nested `pkg/api/.workmux.yaml`. `wm add` run in
 * pkg/api uses the nested file, as `wm config` there shows, and opens the window in pkg/api of
 * the new worktree, as workmux does.
 */
let bench: Workbench;
let api: string;

beforeAll(async () => {
  bench = await makeWorkbench({
    project: ["window_prefix: root-", 'post_create: ["pwd > $HOME/post-create-cwd"]', ""].join(
      "\n",
    ),
  });
  api = path.join(bench.repo, "pkg", "api");
  await fs.mkdir(api, { recursive: true });
  await fs.writeFile(
    path.join(api, ".workmux.yaml"),
    [
      "window_prefix: api-",
      'post_create: ["pwd > $HOME/post-create-cwd"]',
      "panes:",
      "  - command: echo nested-pane",
      "",
    ].join("\n"),
  );
  bench.git(bench.repo, "add", "-A");
  bench.git(bench.repo, "commit", "-q", "-m", "api package");
});
afterAll(async () => {
  await bench?.cleanup();
});

const paneOf = (window: string) => bench.tmux("display-message", "-p", "-t", window, "#{pane_id}");
const cwdOf = (pane: string) =>
  bench.tmux("display-message", "-p", "-t", pane, "#{pane_current_path}");

describe("wm add from a directory with a nested .workmux.yaml", () => {
  let wt: WorktreeSummary;

  it("wm config there shows the nested file", async () => {
    const shown = await bench.wmJson<{ files: { project: string } }>(["config"], { cwd: api });
    expect(shown.files.project).toBe(path.join(api, ".workmux.yaml"));
  });

  it("uses that file and opens the window (and runs post_create) in pkg/api of the new worktree", async () => {
    const res = await bench.wmJson<{ worktree: WorktreeSummary; panes: string[] }>(
      ["add", "api-feature"],
      { cwd: api },
    );
    wt = res.worktree;
    const sub = path.join(wt.path, "pkg", "api");
    expect(wt.window?.name).toBe("api-api-feature");
    expect(res.panes).toHaveLength(1);
    const pane = res.panes[0] as string;
    await eventually(() => cwdOf(pane) === sub, "the pane's shell in pkg/api");
    await eventually(
      () => bench.tmux("capture-pane", "-p", "-t", pane).includes("\nnested-pane"),
      "the nested file's pane command",
    );
    const ran = await fs.readFile(path.join(bench.home.root, "post-create-cwd"), "utf8");
    expect(ran.trim()).toBe(sub);
  });

  it("wm open after wm close opens it there again, with the same file", async () => {
    expect((await bench.wm(["close", "api-feature"])).code).toBe(0);
    const opened = await bench.wmJson<{ worktree: WorktreeSummary }>(["open", "api-feature"]);
    expect(opened.worktree.window?.name).toBe("api-api-feature");
    const pane = paneOf(opened.worktree.window?.id as string);
    await eventually(
      () => cwdOf(pane) === path.join(wt.path, "pkg", "api"),
      "the reopened pane's shell in pkg/api",
    );
  });

  it("control: from the repository root the root file is used and the window opens at the root", async () => {
    const res = await bench.wmJson<{ worktree: WorktreeSummary; panes: string[] }>([
      "add",
      "root-feature",
    ]);
    expect(res.worktree.window?.name).toBe("root-root-feature");
    await eventually(() => cwdOf(res.panes[0] as string) === res.worktree.path, "the root pane");
  });
});
