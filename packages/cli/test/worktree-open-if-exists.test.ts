import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

let bench: Workbench;
beforeAll(async () => {
  bench = await makeWorkbench();
});
afterAll(async () => {
  await bench?.cleanup();
});

type Added = { opened: boolean; worktree: WorktreeSummary };

const windowsOf = (wt: string) => bench.windows().filter((w) => w.worktree === wt);

describe("wm add --open-if-exists is idempotent", () => {
  let path: string;

  it("the first call creates the worktree and its window", async () => {
    const res = await bench.wm(["add", "dup", "--open-if-exists"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^created /);
    path = (await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list"])).worktrees[0]
      ?.path as string;
    expect(windowsOf(path)).toHaveLength(1);
  });

  it("the second call selects that window and says opened; still one window", async () => {
    const [win] = windowsOf(path);
    bench.tmux("select-window", "-t", "main:0");
    const res = await bench.wm(["add", "dup", "--open-if-exists"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^opened /);
    expect(res.stdout).not.toContain("created");
    expect(windowsOf(path).map((w) => w.id)).toEqual([win?.id]);
    expect(bench.tmux("display-message", "-p", "-t", "main", "#{window_id}")).toBe(win?.id);
    const json = await bench.wmJson<Added>(["add", "dup", "--open-if-exists", "-b"]);
    expect(json.opened).toBe(true);
    expect(json.worktree.window?.id).toBe(win?.id);
    expect(windowsOf(path)).toHaveLength(1);
  });

  it("after the window was closed it is opened again, once", async () => {
    expect((await bench.wm(["close", "dup"])).code).toBe(0);
    expect(windowsOf(path)).toHaveLength(0);
    const first = await bench.wmJson<Added>(["add", "dup", "--open-if-exists"]);
    expect(first.opened).toBe(true);
    const second = await bench.wmJson<Added>(["add", "dup", "--open-if-exists"]);
    expect(second.opened).toBe(true);
    expect(windowsOf(path).map((w) => w.id)).toEqual([first.worktree.window?.id]);
  });
});
