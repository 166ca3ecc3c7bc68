import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { PaneRun, WorktreeSummary } from "@wm/protocol";
import { runWm } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const GLOBAL = `agent: "echo agent-got"
layouts:
  two:
    panes:
      - command: "<agent>"
        focus: true
      - command: "echo second-pane"
        split: horizontal
`;
const PROJECT = `post_create:
  - 'touch "$HOME/hook-ran-$WM_HANDLE"'
`;

interface Added {
  worktree: WorktreeSummary;
  branchCreated: boolean;
  hooks: unknown[];
  hooksSkipped: number;
  carried: { tracked: string[]; untracked: string[] } | null;
  pr: { remote: string; number: number } | null;
  promptFile: string | null;
  promptFileOnly: boolean;
  runs: PaneRun[];
}

let bench: Workbench;

beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL, project: PROJECT });
});
afterAll(async () => {
  await bench.cleanup();
});

const add = (...args: string[]) => bench.wmJson<Added>(["add", ...args]);
const read = (file: string) => fs.readFile(file, "utf8");
const windowNames = () => bench.windows().map((w) => w.name);
/** The pane's screen once `seen` shows on it. */
const screenOnce = (pane: string, seen: RegExp) =>
  eventually(() => {
    const text = bench.tmux("capture-pane", "-p", "-t", pane);
    return seen.test(text) ? text : undefined;
  }, `${seen} in ${pane}`);

describe("wm add: workmux's short forms and names", () => {
  it("-a is --agent", async () => {
    const r = await add("short-agent", "-a", "other-agent");
    expect(r.runs[0]?.command).toBe("other-agent");
  });

  it("--name names the worktree and window instead of the branch", async () => {
    const r = await add("feature/long-branch-name", "--name", "short");
    expect(r.worktree.branch).toBe("feature/long-branch-name");
    expect(r.worktree.handle).toBe("short");
    expect(path.basename(r.worktree.path)).toBe("short");
    expect(windowNames()).toContain("wm-short");
    expect(bench.git(r.worktree.path, "branch", "--show-current")).toBe("feature/long-branch-name");
  });

  it("--name with a / is refused, naming the name, and nothing is created", async () => {
    const res = await bench.wm(["add", "named-bad", "--name", "a/b"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('the worktree name "a/b" cannot be used: it contains "/"');
    expect(bench.git(bench.repo, "branch", "--list", "named-bad")).toBe("");
  });

  it("--no-hooks skips post_create and says so", async () => {
    const res = await bench.wm(["add", "hookless", "--no-hooks"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("post_create hooks skipped (--no-hooks): 1 not run");
    expect(existsSync(path.join(bench.home.root, "hook-ran-hookless"))).toBe(false);
    // Without it the same hook runs.
    await add("hooked");
    expect(existsSync(path.join(bench.home.root, "hook-ran-hooked"))).toBe(true);
  });
});

describe("wm add: the prompt on stdin", () => {
  const piped = (branch: string, input: string) =>
    runWm(["add", branch, "--json"], { env: bench.env, cwd: bench.repo, input });

  it("a piped prompt is the agent's prompt", async () => {
    const res = await piped("stdin-prompt", "do x\n");
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as Added;
    expect(await read(r.promptFile as string)).toBe("do x\n");
    const pane = bench.tmux(
      "display-message",
      "-p",
      "-t",
      r.worktree.window?.id ?? "",
      "#{pane_id}",
    );
    await screenOnce(pane, /^agent-got do x$/m);
  });

  it("an empty stdin is no prompt", async () => {
    const res = await piped("stdin-empty", "");
    expect(res.code, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as Added).promptFile).toBeNull();
  });

  it("a prompt over the bound is refused before anything is made", async () => {
    const res = await piped("stdin-huge", "x".repeat(200_001));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("the prompt on stdin is longer than 200000 bytes");
    expect(bench.git(bench.repo, "branch", "--list", "stdin-huge")).toBe("");
  });
});

describe("wm add: several agents from one prompt", () => {
  it("-n 2 makes <branch>-1 and <branch>-2, each with its own rendered prompt", async () => {
    const { agents } = await bench.wmJson<{ agents: Added[] }>([
      "add",
      "fanout",
      "-n",
      "2",
      "-b",
      "-p",
      "try approach {{ index }}",
    ]);
    expect(agents.map((a) => a.worktree.handle)).toEqual(["fanout-1", "fanout-2"]);
    expect(agents.map((a) => a.worktree.branch)).toEqual(["fanout-1", "fanout-2"]);
    expect(new Set(agents.map((a) => a.worktree.path)).size).toBe(2);
    expect(windowNames()).toEqual(expect.arrayContaining(["wm-fanout-1", "wm-fanout-2"]));
    expect(await read(agents[0]?.promptFile as string)).toBe("try approach 1\n");
    expect(await read(agents[1]?.promptFile as string)).toBe("try approach 2\n");
  });

  it("--foreach VAR=a,b sets {{ VAR }} per agent", async () => {
    const { agents } = await bench.wmJson<{ agents: Added[] }>([
      "add",
      "port",
      "--foreach",
      "platform=ios,android",
      "-b",
      "-p",
      "port to {{ platform }} ({{index}})",
    ]);
    expect(agents.map((a) => a.worktree.handle)).toEqual(["port-1", "port-2"]);
    expect(await read(agents[0]?.promptFile as string)).toBe("port to ios (1)\n");
    expect(await read(agents[1]?.promptFile as string)).toBe("port to android (2)\n");
  });

  it("an unknown placeholder is refused before any worktree is made", async () => {
    const res = await bench.wm(["add", "badvar", "-n", "2", "-p", "do {{ what }}"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("the prompt uses {{ what }}, and only {{ index }} are set");
    expect(bench.git(bench.repo, "branch", "--list", "badvar-*")).toBe("");
  });

  it("--count with --name is refused", async () => {
    const res = await bench.wm(["add", "both", "-n", "2", "--name", "x"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--name names one worktree");
  });
});

describe("wm add --with-changes", () => {
  it("carries tracked changes and untracked files (a link as a link, ignored ones not); the source keeps them", async () => {
    const repo = bench.repo;
    await fs.writeFile(path.join(repo, "README.md"), "hello\nchanged here\n");
    await fs.mkdir(path.join(repo, "notes"));
    await fs.writeFile(path.join(repo, "notes", "new.txt"), "untracked\n");
    await fs.symlink("/etc/hostname", path.join(repo, "outside-link"));
    await fs.appendFile(path.join(repo, ".git", "info", "exclude"), "ignored.txt\n");
    await fs.writeFile(path.join(repo, "ignored.txt"), "ignored\n");
    const before = bench.git(repo, "status", "--porcelain");

    const r = await add("carry", "--with-changes");
    const wt = r.worktree.path;
    expect(r.carried).toEqual({
      tracked: ["README.md"],
      untracked: expect.arrayContaining(["notes/new.txt", "outside-link"]),
    });
    expect(await read(path.join(wt, "README.md"))).toBe("hello\nchanged here\n");
    expect(await read(path.join(wt, "notes", "new.txt"))).toBe("untracked\n");
    expect((await fs.lstat(path.join(wt, "outside-link"))).isSymbolicLink()).toBe(true);
    expect(await fs.readlink(path.join(wt, "outside-link"))).toBe("/etc/hostname");
    expect(existsSync(path.join(wt, "ignored.txt"))).toBe(false);
    expect(bench.git(wt, "branch", "--show-current")).toBe("carry");
    expect(bench.git(wt, "log", "-1", "--format=%s")).toBe("initial");
    expect(bench.git(wt, "status", "--porcelain").split("\n")).toEqual([
      "M README.md", // unstaged (" M", its leading space trimmed)
      "?? notes/",
      "?? outside-link",
    ]);
    expect(bench.git(wt, "status")).not.toContain("cherry-pick");
    expect(bench.git(repo, "status", "--porcelain")).toBe(before);
    expect(bench.git(repo, "stash", "list")).toBe("");

    bench.git(repo, "checkout", "--", "README.md");
    await fs.rm(path.join(repo, "notes"), { recursive: true });
    await fs.rm(path.join(repo, "outside-link"));
    await fs.rm(path.join(repo, "ignored.txt"));
  });
});

describe("wm add --pr", () => {
  it("fetches pull/N/head from origin into pr-N and checks it out", async () => {
    const remote = path.join(bench.home.root, "remote.git");
    bench.git(bench.home.root, "init", "-q", "--bare", remote);
    bench.git(bench.repo, "remote", "add", "origin", remote);
    bench.git(bench.repo, "checkout", "-q", "-b", "contrib");
    await fs.writeFile(path.join(bench.repo, "pr.txt"), "from the pull request\n");
    bench.git(bench.repo, "add", "pr.txt");
    bench.git(bench.repo, "commit", "-q", "-m", "pull request change");
    bench.git(bench.repo, "push", "-q", "origin", "HEAD:refs/pull/7/head");
    bench.git(bench.repo, "checkout", "-q", "main");
    bench.git(bench.repo, "branch", "-q", "-D", "contrib");

    const r = await bench.wmJson<Added>(["add", "--pr", "7"]);
    expect(r.pr).toEqual({ remote: "origin", number: 7 });
    expect(r.worktree.branch).toBe("pr-7");
    expect(r.worktree.handle).toBe("pr-7");
    expect(bench.git(r.worktree.path, "branch", "--show-current")).toBe("pr-7");
    expect(bench.git(r.worktree.path, "log", "-1", "--format=%s")).toBe("pull request change");
    expect(await read(path.join(r.worktree.path, "pr.txt"))).toBe("from the pull request\n");
  });

  it("a pull request the remote does not have is an error and leaves no branch", async () => {
    const res = await bench.wm(["add", "--pr", "8"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("pull request 8 could not be fetched from origin");
    expect(bench.git(bench.repo, "branch", "--list", "pr-8")).toBe("");
  });

  it("an ssh remote is refused with the git command to run instead", async () => {
    const remote = bench.git(bench.repo, "remote", "get-url", "origin");
    bench.git(bench.repo, "remote", "set-url", "origin", "git@example.invalid:o/r.git");
    try {
      const res = await bench.wm(["add", "--pr", "9"]);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain("wm fetches pull requests only over https or from a local path");
      expect(res.stderr).toContain(
        "fetch it yourself with `git fetch origin pull/9/head:pr-9`, then run `wm add pr-9`",
      );
    } finally {
      bench.git(bench.repo, "remote", "set-url", "origin", remote);
    }
  });
});

describe("wm add -l/--layout", () => {
  it("lays the window out with layouts.NAME", async () => {
    const r = await add("laid", "-l", "two");
    expect(r.runs.map((p) => p.command)).toEqual(["echo agent-got", "echo second-pane"]);
    const panes = bench.tmux("list-panes", "-t", r.worktree.window?.id ?? "", "-F", "#{pane_id}");
    expect(panes.split("\n")).toHaveLength(2);
  });

  it("wm open lays a closed window out with the same layout again", async () => {
    expect((await bench.wm(["close", "laid"])).code).toBe(0);
    const r = await bench.wmJson<{ worktree: WorktreeSummary; runs: PaneRun[] }>(["open", "laid"]);
    expect(r.runs.map((p) => p.command)).toEqual(["echo agent-got", "echo second-pane"]);
  });

  it("an unknown layout is refused, naming the ones there are", async () => {
    const res = await bench.wm(["add", "unlaid", "--layout", "three"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('no layout "three" under layouts: in the config (it has two)');
    expect(bench.git(bench.repo, "branch", "--list", "unlaid")).toBe("");
  });
});

describe("prompt_file_only: true", () => {
  let only: Workbench;
  beforeAll(async () => {
    only = await makeWorkbench({ global: 'agent: "echo agent-got"\nprompt_file_only: true\n' });
  });
  afterAll(async () => {
    await only.cleanup();
  });

  it("writes the prompt file and starts the agent without it", async () => {
    const r = await only.wmJson<Added>(["add", "file-only", "-p", "the task"]);
    expect(r.promptFileOnly).toBe(true);
    expect(await read(r.promptFile as string)).toBe("the task\n");
    const text = await only.wm(["add", "file-only-2", "-p", "task two"]);
    expect(text.stdout).toContain("(prompt_file_only: not passed to the agent)");
    const pane = only.tmux(
      "display-message",
      "-p",
      "-t",
      r.worktree.window?.id ?? "",
      "#{pane_id}",
    );
    const screen = await eventually(() => {
      const s = only.tmux("capture-pane", "-p", "-t", pane);
      return /^agent-got/m.test(s) ? s : undefined;
    }, "the agent's output");
    expect(screen).toMatch(/^agent-got$/m);
    expect(screen).not.toContain("wm-prompt.md");
  });
});
