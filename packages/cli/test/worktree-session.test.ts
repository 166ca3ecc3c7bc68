import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const GLOBAL = `agent: "echo agent-started"
mode: session
window_prefix: "{project}/"
windows:
  - name: agent
    panes:
      - command: <agent>
      - command: echo side
        split: vertical
        size: 5
        zoom: true
  - name: shell
`;

let bench: Workbench;
let outside: string;
beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL });
  outside = `${bench.server}-out`;
});
afterAll(async () => {
  try {
    execFileSync("tmux", ["-L", outside, "kill-server"], { stdio: "ignore" });
  } catch {}
  await fs.rm(path.join(path.dirname(bench.socketPath), outside), { force: true });
  await bench.cleanup();
});

const sessions = () => bench.tmux("list-sessions", "-F", "#{session_name}").split("\n").sort();

describe("mode: session", () => {
  let wt: WorktreeSummary;

  it("opens one session per worktree with the configured windows, panes, size and zoom", async () => {
    wt = (await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "s-one", "-b"])).worktree;
    expect(sessions()).toEqual(["main", "proj/s-one"]);
    const windows = bench.tmux(
      "list-windows",
      "-t",
      "proj/s-one",
      "-F",
      "#{window_name} #{window_panes} #{window_zoomed_flag}",
    );
    expect(windows.split("\n")).toEqual(["agent 2 1", "shell 1 0"]);
    const side = bench
      .tmux("list-panes", "-t", "proj/s-one:agent", "-F", "#{pane_id}")
      .split("\n")[1] as string;
    expect(bench.tmux("display-message", "-p", "-t", "proj/s-one:agent", "#{pane_id}")).toBe(side);
    bench.tmux("resize-pane", "-Z", "-t", side);
    expect(bench.tmux("display-message", "-p", "-t", side, "#{pane_height}")).toBe("5");
    await eventually(
      () => bench.tmux("capture-pane", "-p", "-t", side).includes("\nside"),
      "side pane",
    );
  });

  it("shows the status on the agent window and close kills the session", async () => {
    await bench.wm(["status", "set", "waiting"], { cwd: wt.path });
    expect(
      bench
        .tmux("list-windows", "-t", "proj/s-one", "-F", "#{window_name} #{@wm_status}")
        .split("\n")[0],
    ).toBe("agent 💬 waiting");
    await bench.wmJson(["close", "s-one"]);
    expect(sessions()).toEqual(["main"]);
    await bench.wmJson(["open", "s-one"]);
    expect(sessions()).toEqual(["main", "proj/s-one"]);
    await bench.wmJson(["rm", "s-one"]);
    expect(sessions()).toEqual(["main"]);
  });
});

describe("outside tmux", () => {
  it("opens the window in a `wm` session on the server WM_TMUX_SOCKET names, starting it", async () => {
    const env = { ...bench.home.env, WM_TMUX_SOCKET: outside, HISTFILE: "/dev/null" };
    await fs.writeFile(path.join(bench.repo, ".workmux.yaml"), "mode: window\n");
    const res = await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "out-one", "-b"], {
      env,
    });
    await fs.rm(path.join(bench.repo, ".workmux.yaml"));
    const tmux = (...args: string[]) =>
      execFileSync("tmux", ["-u", "-L", outside, ...args], { encoding: "utf8" }).trim();
    expect(tmux("list-sessions", "-F", "#{session_name}")).toBe("wm");
    expect(tmux("list-windows", "-t", "wm", "-F", "#{window_name}").split("\n")).toContain(
      "proj/out-one",
    );
    expect(res.worktree.window?.server).toMatch(new RegExp(`/${outside}$`));
    await bench.wmJson(["rm", "out-one"], { env });
  });
});
