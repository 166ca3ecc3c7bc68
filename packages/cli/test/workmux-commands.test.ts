import { promises as fs, realpathSync } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import type { RunResult } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

// The agent pane runs `cat`: what `wm send` types comes back on the pane's screen.
const GLOBAL = `agent: "cat"
panes:
  - command: <agent>
    focus: true
  - command: echo side-pane
    split: horizontal
`;

let bench: Workbench;
beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL });
});
afterAll(async () => {
  await bench.cleanup();
});

type Added = { worktree: WorktreeSummary; panes: string[] };

const add = (name: string) => bench.wmJson<Added>(["add", "--background", name]);

describe("aliases", () => {
  it("wm ls lists like wm list, wm remove removes like wm rm", async () => {
    const { worktree } = await add("alias-one");
    const ls = await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["ls"]);
    expect(ls.worktrees.map((w) => w.handle)).toContain("alias-one");
    const removed = await bench.wmJson<{ path: string }>(["remove", "alias-one"]);
    expect(removed.path).toBe(worktree.path);
    const after = await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["ls"]);
    expect(after.worktrees.map((w) => w.handle)).not.toContain("alias-one");
  });

  it("help and completions show the aliases", async () => {
    const help = await bench.wm(["--help"]);
    expect(help.stdout).toMatch(/^ {2}list, ls +List/m);
    expect(help.stdout).toMatch(/^ {2}rm, remove +Remove/m);
    // Offered as commands, and completed further like the command they stand for.
    const bash = await bench.wm(["completions", "bash"]);
    expect(bash.stdout).toMatch(/'add' 'list' 'ls' .*'rm' 'remove'|add list ls .*rm remove/);
    expect(bash.stdout).toMatch(/^ *'ls'\)/m);
    expect(bash.stdout).toMatch(/^ *'remove'\)/m);
    const fish = await bench.wm(["completions", "fish"]);
    expect(fish.stdout).toMatch(/-a 'remove' -d 'Remove a worktree[^\n]*\(= rm\)'/);
    expect(fish.stdout).toMatch(/-a 'ls' -d 'List[^\n]*\(= list\)'/);
  });
});

describe("wm path", () => {
  it("prints the worktree's path, as text and --json", async () => {
    const { worktree } = await add("path-one");
    const text = await bench.wm(["path", "path-one"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${worktree.path}\n`);
    const json = await bench.wmJson<{ worktree: WorktreeSummary }>(["path", "path-one"]);
    expect(json.worktree.path).toBe(worktree.path);
    expect(path.basename(worktree.path)).toBe("path-one");
  });

  it("exits 1 naming an unknown worktree", async () => {
    const res = await bench.wm(["path", "no-such-tree"]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain('no worktree named "no-such-tree"');
  });
});

describe("wm send / wm capture", () => {
  it("send types the text into the agent pane and Enter; capture prints it back", async () => {
    const { panes } = await add("talk");
    const agentPane = panes[0] as string;
    const side = panes[1] as string;
    // The pane's shell has started cat once cat is the pane's foreground command.
    await eventually(
      () =>
        bench.tmux("display-message", "-p", "-t", agentPane, "#{pane_current_command}") === "cat",
      "cat running in the agent pane",
    );
    const sent = await bench.wmJson<{ pane: string }>(["send", "talk", "hello", "from wm"]);
    expect(sent.pane).toBe(agentPane);
    // The terminal echoes the typed line and cat prints it again after Enter.
    const echoed = (await eventually(async () => {
      const res = await bench.wm(["capture", "talk"]);
      return res.stdout.split("\n").filter((l) => l === "hello from wm").length === 2
        ? res
        : undefined;
    }, "the sent line typed and echoed by cat")) as RunResult;
    expect(echoed.code).toBe(0);
    expect(bench.tmux("capture-pane", "-p", "-t", side)).not.toContain("hello from wm");
    const last = await bench.wmJson<{ text: string }>(["capture", "talk", "-n", "1"]);
    expect(last.text).toBe("hello from wm");
  });

  it("send refuses text with a control character, naming it", async () => {
    const res = await bench.wm(["send", "talk", "rm -rf x\u001b[A"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("U+001B");
    expect(res.stderr).toContain("TEXT");
    const capture = await bench.wm(["capture", "talk"]);
    expect(capture.stdout).not.toContain("rm -rf x");
  });

  it("capture escapes what a terminal would obey unless --raw", async () => {
    // A bidi override cannot be sent; the pane prints one itself instead.
    const { panes } = await add("bidi");
    const agentPane = panes[0] as string;
    await eventually(
      () =>
        bench.tmux("display-message", "-p", "-t", agentPane, "#{pane_current_command}") === "cat",
      "cat running",
    );
    bench.tmux("send-keys", "-t", agentPane, "C-c");
    bench.tmux("send-keys", "-t", agentPane, "-l", "printf 'mark:\\342\\200\\256:end\\n'");
    bench.tmux("send-keys", "-t", agentPane, "Enter");
    const shown = (await eventually(async () => {
      const res = await bench.wm(["capture", "bidi"]);
      return res.stdout.includes("mark:\\u202e:end") ? res : undefined;
    }, "the bidi override shown escaped")) as RunResult;
    expect(shown.stdout).not.toContain("\u202e");
    const raw = await bench.wm(["capture", "bidi", "--raw"]);
    expect(raw.stdout).toContain("mark:\u202e:end");
  });

  it("send and capture name a worktree whose window is closed", async () => {
    await add("shut");
    await bench.wm(["close", "shut"]);
    const res = await bench.wm(["send", "shut", "hi"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("shut has no window open");
  });
});

describe("wm last-done", () => {
  it("exits 1 when no agent has finished", async () => {
    const res = await bench.wm(["last-done"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("no agent has finished");
  });

  it("selects the window of the agent that reported done last", async () => {
    const a = (await add("done-a")).worktree;
    const b = (await add("done-b")).worktree;
    const current = () => bench.tmux("display-message", "-p", "-t", "main", "#{window_id}");
    await bench.wm(["status", "set", "done"], { cwd: b.path });
    await bench.wm(["status", "set", "done"], { cwd: a.path });
    bench.tmux("select-window", "-t", "main:0");
    const picked = await bench.wmJson<{ worktree: WorktreeSummary }>(["last-done"]);
    expect(picked.worktree.handle).toBe("done-a");
    expect(current()).toBe(a.window?.id);
    await bench.wm(["status", "set", "done"], { cwd: b.path });
    bench.tmux("select-window", "-t", "main:0");
    const text = await bench.wm(["last-done"]);
    expect(text.stdout).toBe("switched to done-b\n");
    expect(current()).toBe(b.window?.id);
  });
});

describe("wm config path / edit", () => {
  it("config path prints the global file, then the project file", async () => {
    const project = path.join(bench.repo, ".workmux.yaml");
    await fs.writeFile(project, "# nothing set\n");
    try {
      const files = await bench.wmJson<{
        global: { path: string; exists: boolean };
        project: string | null;
      }>(["config", "path"]);
      expect(files.global).toEqual({
        path: realpathSync(path.join(bench.home.configDir, "config.yaml")),
        exists: true,
      });
      expect(files.project).toBe(realpathSync(project));
      const text = await bench.wm(["config", "path"]);
      expect(text.stdout).toBe(`global:  ${files.global.path}\nproject: ${files.project}\n`);
    } finally {
      await fs.rm(project);
    }
    const none = await bench.wm(["config", "path"]);
    expect(none.stdout).toContain(
      `project: ${path.join(realpathSync(bench.repo), ".workmux.yaml")} (not present)`,
    );
  });

  it("config edit opens $VISUAL on the global file, creating it with a header when missing", async () => {
    const global = path.join(bench.home.configDir, "config.yaml");
    const saved = await fs.readFile(global, "utf8");
    const editor = path.join(bench.home.root, "fake-editor");
    await fs.writeFile(editor, '#!/bin/sh\nprintf "edited %s\\n" "$1" >> "$1"\n', { mode: 0o755 });
    await fs.rm(global);
    try {
      const res = await bench.wm(["config", "edit"], {
        env: { ...bench.env, VISUAL: editor, EDITOR: "false" },
      });
      expect(res.code, res.stderr).toBe(0);
      const written = await fs.readFile(global, "utf8");
      expect(written).toMatch(/^# wm \/ workmux global configuration/);
      expect(written).toContain(`edited ${realpathSync(global)}`);
      const unset = await bench.wm(["config", "edit"], {
        env: { ...bench.env, VISUAL: "", EDITOR: "" },
      });
      expect(unset.code).toBe(2);
      expect(unset.stderr).toContain("neither VISUAL nor EDITOR is set");
    } finally {
      await fs.writeFile(global, saved);
    }
  });
});

describe("wm init", () => {
  it("writes a commented .workmux.yaml at the repository root, and refuses when one exists", async () => {
    const file = path.join(realpathSync(bench.repo), ".workmux.yaml");
    const sub = path.join(bench.repo, "docs");
    await fs.mkdir(sub, { recursive: true });
    try {
      const res = await bench.wm(["init"], { cwd: sub });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`wrote ${file}\n`);
      const text = await fs.readFile(file, "utf8");
      expect(text).toContain("# panes:");
      expect(text.split("\n").every((l) => l === "" || l.startsWith("#"))).toBe(true);
      const config = await bench.wm(["config"]);
      expect(config.code, config.stderr).toBe(0);
      expect(config.stdout).toContain(`project config: ${file}`);
      const again = await bench.wm(["init"]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`${file} exists already`);
      expect(again.stderr).toContain("--force");
    } finally {
      await fs.rm(file, { force: true });
      await fs.rm(sub, { recursive: true, force: true });
    }
  });

  it("never writes through a symbolic link planted at .workmux.yaml", async () => {
    const file = path.join(bench.repo, ".workmux.yaml");
    const outside = path.join(bench.home.root, "outside.txt");
    await fs.writeFile(outside, "keep me\n");
    await fs.symlink(outside, file);
    try {
      const refused = await bench.wm(["init"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("exists already");
      const forced = await bench.wm(["init", "--force"]);
      expect(forced.code, forced.stderr).toBe(0);
      expect(await fs.readFile(outside, "utf8")).toBe("keep me\n");
      expect((await fs.lstat(file)).isFile()).toBe(true);
      expect(await fs.readFile(file, "utf8")).toContain("# panes:");
    } finally {
      await fs.rm(file, { force: true });
    }
  });
});
