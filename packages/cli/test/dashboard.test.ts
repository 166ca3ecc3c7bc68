import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { rawRequest, rpcBody, WM_BIN } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const GLOBAL = `agent: "echo agent-started; cat"
status_icons: { working: "W!", waiting: "#[fg=yellow]Q?", done: "D+" }
dashboard: { sort_mode: natural, commit: "please commit now", preview_size: 40 }
theme: { scheme: emberforge, custom: { header: "#ff00aa" } }
`;
const ALPHA = "feature/alpha-with-a-long-name";
const BETA = "feature/beta-with-a-long-name";

let bench: Workbench;
let pane: string;
const paths: Record<string, string> = {};

const screen = () => bench.tmux("capture-pane", "-p", "-t", pane).split("\n");
/** The screen with its colours and attributes as escape sequences. */
const styled = () => bench.tmux("capture-pane", "-p", "-e", "-t", pane).split("\n");
const rowOf = (branch: string) =>
  screen().find((l) => /^(> | {2})/.test(l) && l.includes(` ${branch} `));
const bottom = () =>
  screen()
    .filter((l) => l.trim())
    .at(-1) ?? "";
const keys = (...k: string[]) => bench.tmux("send-keys", "-t", pane, ...k);
const rowIndex = (branch: string) =>
  screen().findIndex((l) => /^(> | {2})/.test(l) && l.includes(` ${branch} `));
const agentScreen = (worktree: string) => {
  const id = bench.windows().find((w) => w.worktree === worktree)?.id;
  return id ? bench.tmux("capture-pane", "-p", "-t", id) : "";
};
const paneFlags = () =>
  bench.tmux("display-message", "-p", "-t", pane, "#{alternate_on} #{cursor_flag}");
const launch = () =>
  keys(`${process.execPath} ${WM_BIN} dashboard; echo "dashboard exited $?"`, "Enter");

beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL });
  pane = bench.tmux(
    ...["new-session", "-d", "-P", "-F", "#{pane_id}", "-s", "dash", "-x", "120", "-y", "30"],
    ...["-c", bench.repo],
  );
});
afterAll(async () => {
  await bench.cleanup();
});

describe("wm dashboard in a tmux pane", () => {
  it("draws on the alternate screen and shows each worktree `wm add` creates", async () => {
    launch();
    await eventually(() => screen()[0]?.includes("0 worktrees"), "the empty dashboard");
    expect(paneFlags()).toBe("1 0");
    for (const [key, branch] of [
      ["alpha", ALPHA],
      ["beta", BETA],
    ] as const) {
      const res = await bench.wmJson<{ worktree: WorktreeSummary }>(["add", branch, "-b"]);
      paths[key] = res.worktree.path;
    }
    await eventually(() => rowOf(ALPHA) && rowOf(BETA), "both rows");
    for (const branch of [ALPHA, BETA])
      expect(rowOf(branch)).toMatch(/host\s+\d+s ago\s+\+0 -0, 0 files/);
    expect(rowOf(ALPHA)?.startsWith("> ")).toBe(true);
    expect(screen()[0]).toContain("2 worktrees");
  });

  it("draws in the theme's colours: a custom colour over the scheme's", async () => {
    await eventually(() => rowOf(ALPHA) && rowOf(BETA), "both rows");
    // theme.custom.header on the summary line, emberforge's dark text colour on the rows.
    expect(styled()[0]).toContain("38;2;255;0;170m");
    const beta = styled().find((l) => l.includes(BETA)) ?? "";
    expect(beta).toContain("38;2;231;214;198m");
  });

  it("shows a status change with its configured icon within a second", async () => {
    const res = await bench.wm(["status", "set", "working"], { cwd: paths.alpha as string });
    expect(res.code, res.stderr).toBe(0);
    await eventually(() => rowOf(ALPHA)?.includes("W! working"), "the working icon", 1000);
    expect(rowOf(BETA)).not.toContain("working");
  });

  it("shows the branch's diff size once a status event follows a commit", async () => {
    const alpha = paths.alpha as string;
    await fs.writeFile(path.join(alpha, "notes.txt"), "one\ntwo\n");
    bench.git(alpha, "add", "notes.txt");
    bench.git(
      alpha,
      "-c",
      "user.name=A",
      "-c",
      "user.email=a@example.invalid",
      "commit",
      "-qm",
      "n",
    );
    expect((await bench.wm(["status", "set", "done"], { cwd: alpha })).code).toBe(0);
    await eventually(
      () => /D\+ done .*\+2 -0, 1 file$/.test(rowOf(ALPHA) ?? ""),
      "done and the diff size",
    );
  });

  it("enter selects the agent's tmux window", async () => {
    const target = bench.windows().find((w) => w.worktree === paths.alpha)?.id;
    bench.tmux("select-window", "-t", "main:0");
    keys("Enter");
    await eventually(
      () => bench.tmux("display-message", "-p", "-t", "main", "#{window_id}") === target,
      "the agent's window selected",
    );
    await eventually(() => bottom().includes("selected the window"), "the outcome line");
  });

  it("redraws to the new size when the window is resized, no line wider than it", async () => {
    expect(Math.max(...screen().map((l) => [...l].length))).toBeGreaterThan(80);
    bench.tmux("resize-window", "-t", "dash", "-x", "80", "-y", "20");
    await eventually(() => {
      const lines = screen();
      return lines.length === 20 && lines[19]?.includes("selected the window") && rowOf(BETA);
    }, "a frame of the new size");
    for (const line of screen()) expect([...line].length).toBeLessThanOrEqual(80);
    expect(rowOf(ALPHA)?.startsWith("> ")).toBe(true);
  });

  it("starts in dashboard.sort_mode order; s cycles name, status, project, activity", async () => {
    const res = await bench.wm(["status", "set", "waiting"], { cwd: paths.beta as string });
    expect(res.code, res.stderr).toBe(0);
    await eventually(() => rowOf(BETA)?.includes("Q? waiting"), "beta waiting");
    expect(screen()[0]).toContain("sort: natural");
    expect(rowIndex(ALPHA)).toBeLessThan(rowIndex(BETA));
    keys("s");
    await eventually(() => screen()[0]?.includes("sort: name"), "sorted by name");
    expect(rowIndex(ALPHA)).toBeLessThan(rowIndex(BETA));
    keys("s");
    await eventually(() => screen()[0]?.includes("sort: status"), "sorted by status");
    expect(rowIndex(BETA)).toBeLessThan(rowIndex(ALPHA));
    expect(rowOf(ALPHA)?.startsWith("> ")).toBe(true);
    keys("s");
    await eventually(() => screen()[0]?.includes("sort: project"), "sorted by project");
    keys("s");
    await eventually(() => screen()[0]?.includes("sort: activity"), "sorted by activity");
    keys("s");
    await eventually(() => screen()[0]?.includes("sort: natural"), "the added order again");
    expect(rowIndex(ALPHA)).toBeLessThan(rowIndex(BETA));
  });

  it("1-9 jump to the Nth worktree", async () => {
    keys("2");
    await eventually(() => rowOf(BETA)?.startsWith("> "), "beta selected");
    keys("1");
    await eventually(() => rowOf(ALPHA)?.startsWith("> "), "alpha selected");
    keys("9");
    await eventually(() => bottom() === "there is no worktree 9", "no ninth");
    expect(rowOf(ALPHA)?.startsWith("> ")).toBe(true);
  });

  it("/ filters by name: typed text, enter applies, esc clears", async () => {
    keys("/");
    keys("-l", "beta");
    await eventually(() => bottom().startsWith("/beta"), "the typed filter");
    expect(rowOf(ALPHA)).toBeDefined();
    keys("Enter");
    await eventually(() => rowOf(ALPHA) === undefined, "alpha filtered out");
    expect(rowOf(BETA)?.startsWith("> ")).toBe(true);
    expect(screen()[0]).toContain("filter: beta");
    keys("/");
    keys("Escape");
    await eventually(() => rowOf(ALPHA) && rowOf(BETA), "both rows again");
    expect(screen()[0]).not.toContain("filter:");
    keys("1");
    await eventually(() => rowOf(ALPHA)?.startsWith("> "), "alpha selected");
  });

  it("previews the agent's pane; d lists the changed files and shows each one's patch", async () => {
    const alpha = paths.alpha as string;
    await eventually(
      () => screen().some((l) => l.startsWith("── feature-alpha")),
      "the preview title",
    );
    await eventually(() => screen().includes("agent-started"), "the agent's output");
    await fs.appendFile(path.join(alpha, "README.md"), "world\n");
    const long = Array.from({ length: 120 }, (_, i) => `row ${i + 1}`).join("\n");
    await fs.writeFile(path.join(alpha, "long.txt"), `${long}\nbad \x1b[2J\x1b]0;title\x07end\n`);
    keys("d");
    const fileRow = (name: string) => screen().find((l) => l.includes(` ${name}  (`));
    await eventually(
      () => fileRow("notes.txt") && fileRow("README.md") && fileRow("long.txt"),
      "the changed files",
    );
    expect(screen()[1]).toContain("3 files changed since the merge base with main");
    expect(fileRow("README.md")).toMatch(/^> M\s+\+1\s+-0 README\.md {2}\(uncommitted\)/);
    expect(fileRow("long.txt")).toMatch(/^ {2}A\s+\+121\s+-0 long\.txt {2}\(uncommitted\)/);
    expect(fileRow("notes.txt")).toMatch(/^ {2}A\s+\+2\s+-0 notes\.txt {2}\(committed\)/);
    expect(screen().includes("agent-started")).toBe(false);
    await eventually(() => screen().includes("+world"), "README.md's patch");

    keys("j");
    await eventually(() => fileRow("long.txt")?.startsWith("> "), "long.txt selected");
    await eventually(() => screen().includes("+row 1"), "long.txt's patch from its start");
    keys("NPage");
    await eventually(() => !screen().includes("+row 1"), "the patch scrolled");
    keys("End");
    await eventually(
      () => screen().some((l) => l.includes("+bad \\x1b[2J\\x1b]0;title\\x07end")),
      "the escape sequences shown as text",
    );
    expect(fileRow("long.txt")).toBeDefined();
    keys("PPage", "Home");
    await eventually(() => screen().includes("+row 1"), "back at the start");

    keys("j");
    await eventually(() => screen().includes("+one"), "notes.txt's patch");
    keys("Escape");
    await eventually(() => screen().includes("agent-started"), "the agent's output again");
    expect(rowOf(ALPHA)?.startsWith("> ")).toBe(true);
    keys("d");
    await eventually(() => fileRow("notes.txt"), "the diff view again");
    keys("d");
    await eventually(() => screen().includes("agent-started"), "d goes back too");
    await fs.rm(path.join(alpha, "long.txt"));
    bench.git(alpha, "checkout", "--", "README.md");
  });

  it("worktree.diff refuses an unknown worktree, a path outside the diff, and ..", async () => {
    const call = async (params: Record<string, unknown>) => {
      const res = await rawRequest(bench.home.socketPath, {
        body: rpcBody("worktree.diff", { cwd: bench.repo, ...params }),
      });
      return (res.json() as { error?: { message: string; data?: unknown } }).error;
    };
    expect((await call({ name: "no-such-worktree" }))?.message).toContain("no-such-worktree");
    expect((await call({ name: ALPHA, path: "README.md" }))?.message).toBe(
      "README.md is not among the 1 changed files of feature-alpha-with-a-long-name; call worktree.diff without path to list them",
    );
    const dots = await call({ name: ALPHA, path: "../proj/README.md" });
    expect(JSON.stringify(dots)).toContain("must not contain a `..` segment");
  });

  it("i forwards each key to the agent as typed; Esc leaves input mode", async () => {
    const alpha = paths.alpha as string;
    const agentLines = () => agentScreen(alpha).split("\n");
    keys("i");
    await eventually(
      () => bottom().startsWith("input to feature-alpha") && bottom().includes("(Esc leaves)"),
      "input mode",
    );
    keys("-l", "hej");
    await eventually(() => agentLines().includes("hej"), "the keys echoed before any Enter");
    keys("BSpace");
    await eventually(() => agentLines().includes("he"), "backspace reaching the agent");
    keys("-l", "llo");
    keys("Enter");
    await eventually(
      () => agentLines().filter((l) => l === "hello").length === 2,
      "the line typed and cat's copy of it",
    );
    expect(rowOf(ALPHA)?.startsWith("> ")).toBe(true);
    expect(bottom()).toContain("(Esc leaves)");
    keys("Escape");
    await eventually(() => !bottom().startsWith("input to"), "input mode left");
    keys("j");
    await eventually(() => rowOf(BETA)?.startsWith("> "), "j moves again");
    keys("k");
    await eventually(() => rowOf(ALPHA)?.startsWith("> "), "alpha selected");
  });

  it("c asks before typing dashboard.commit into the agent; only y sends it", async () => {
    const alpha = paths.alpha as string;
    keys("c");
    await eventually(
      () =>
        bottom().startsWith('commit in feature-alpha-with-a-long-name: type "please commit now"'),
      "the commit question",
    );
    keys("n");
    await eventually(() => bottom() === "cancelled", "cancelled");
    expect(agentScreen(alpha)).not.toContain("please commit now");
    expect(bench.windows().some((w) => w.worktree === alpha)).toBe(true);
    keys("c");
    await eventually(() => bottom().startsWith("commit in"), "the question again");
    keys("y");
    await eventually(
      () => agentScreen(alpha).split("\n").includes("please commit now"),
      "the commit request in the agent pane",
    );
    await eventually(() => bottom().includes("asked the agent of"), "the outcome line");
  });

  it("asks before merging, shows a refusal on the status line, then merges", async () => {
    keys("j");
    await eventually(() => rowOf(BETA)?.startsWith("> "), "beta selected");
    keys("m");
    await eventually(() => bottom().includes(`merge ${BETA} into main? [y/n]`), "the question");
    keys("n");
    await eventually(() => bottom() === "cancelled", "cancelled");
    await fs.writeFile(path.join(paths.beta as string, "dirty.txt"), "x\n");
    keys("m");
    await eventually(() => bottom().includes("[y/n]"), "the question again");
    keys("y");
    await eventually(() => bottom().includes("uncommitted changes"), "the refusal");
    expect(rowOf(BETA)).toBeDefined();
    await fs.rm(path.join(paths.beta as string, "dirty.txt"));

    keys("k");
    await eventually(() => rowOf(ALPHA)?.startsWith("> "), "alpha selected");
    keys("m");
    await eventually(() => bottom().includes(`merge ${ALPHA} into main?`), "the merge question");
    keys("y");
    await eventually(() => rowOf(ALPHA) === undefined, "the merged worktree gone");
    expect(bottom()).toContain(`merged ${ALPHA} into main`);
    expect(bench.git(bench.repo, "log", "--format=%s", "-1", "main")).toBe("n");
  });

  it("x asks before closing the agent's window; ? shows the keys and esc hides them", async () => {
    await eventually(() => rowOf(BETA)?.startsWith("> "), "beta selected");
    keys("x");
    await eventually(() => bottom().startsWith("close the window of feature-beta"), "the question");
    keys("n");
    await eventually(() => bottom() === "cancelled", "cancelled");
    expect(bench.windows().some((w) => w.worktree === paths.beta)).toBe(true);
    keys("x");
    await eventually(() => bottom().startsWith("close the window of"), "the question again");
    keys("y");
    await eventually(() => bottom().includes("closed the window of"), "closed");
    expect(bench.windows().some((w) => w.worktree === paths.beta)).toBe(false);
    keys("?");
    await eventually(() => screen().some((l) => l.startsWith("Keys")), "the key help");
    keys("Escape");
    await eventually(() => rowOf(BETA), "the list again");
    expect(paneFlags()).toBe("1 0");
  });

  it("q leaves the alternate screen and gives the shell its terminal back", async () => {
    keys("q");
    await eventually(() => screen().some((l) => l === "dashboard exited 0"), "the shell again");
    expect(paneFlags()).toBe("0 1");
    keys('stty -a | tr " " "\\n" | grep -x -e icanon -e -icanon -e echo -e -echo | xargs', "Enter");
    await eventually(() => screen().some((l) => l === "icanon echo"), "a cooked terminal");
  });

  it("ctrl-c quits too, with exit code 130", async () => {
    bench.tmux("send-keys", "-t", pane, "clear", "Enter");
    launch();
    await eventually(() => paneFlags() === "1 0" && rowOf(BETA), "the dashboard again");
    keys("C-c");
    await eventually(() => screen().some((l) => l === "dashboard exited 130"), "exit 130");
    expect(paneFlags()).toBe("0 1");
  });
});

describe("wm dashboard without a terminal", () => {
  it("--once prints one frame at $COLUMNS; --json the rows", async () => {
    const once = await bench.wm(["dashboard", "--once"], { env: { ...bench.env, COLUMNS: "50" } });
    expect(once.code, once.stderr).toBe(0);
    const lines = once.stdout.trimEnd().split("\n");
    expect(lines[0]).toContain("1 worktree");
    expect(lines.some((l) => l.includes("feature-beta"))).toBe(true);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(50);
    const doc = await bench.wmJson<{ worktrees: Array<Record<string, unknown>> }>([
      "dashboard",
      "--once",
    ]);
    expect(doc.worktrees).toHaveLength(1);
    expect(doc.worktrees[0]).toMatchObject({
      branch: BETA,
      sandbox: false,
      sandboxState: null,
      window: null,
      diff: { base: "main", files: 0, added: 0, removed: 0 },
    });
  });

  it("refuses to run live without a terminal, and --json without --once", async () => {
    const live = await bench.wm(["dashboard"]);
    expect(live.code).toBe(2);
    expect(live.stderr).toContain("needs a terminal");
    const json = await bench.wm(["dashboard", "--json"]);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain("--json needs --once");
  });
});

describe("wm dashboard with dashboard.merge set", () => {
  let own: Workbench;
  let dash: string;
  const shown = () => own.tmux("capture-pane", "-p", "-t", dash).split("\n");
  const last = () =>
    shown()
      .filter((l) => l.trim())
      .at(-1) ?? "";

  beforeAll(async () => {
    own = await makeWorkbench({
      global: 'agent: "echo agent-started; cat"\ndashboard: { merge: "!wm merge --keep" }\n',
    });
    dash = own.tmux(
      ...["new-session", "-d", "-P", "-F", "#{pane_id}", "-s", "dash", "-x", "120", "-y", "30"],
      ...["-c", own.repo],
    );
  });
  afterAll(async () => {
    await own.cleanup();
  });

  it("m asks, then types dashboard.merge into the agent instead of merging", async () => {
    const res = await own.wmJson<{ worktree: WorktreeSummary }>(["add", "feature/gamma", "-b"]);
    const gamma = res.worktree.path;
    own.tmux("send-keys", "-t", dash, `${process.execPath} ${WM_BIN} dashboard`, "Enter");
    await eventually(() => shown().some((l) => l.startsWith("> ")), "the row");
    const agent = () => {
      const id = own.windows().find((w) => w.worktree === gamma)?.id;
      return id ? own.tmux("capture-pane", "-p", "-t", id).split("\n") : [];
    };
    await eventually(() => agent().includes("agent-started"), "the agent running");
    own.tmux("send-keys", "-t", dash, "m");
    await eventually(
      () => last() === 'merge feature-gamma: type "!wm merge --keep" into its agent? [y/n]',
      "the question",
    );
    own.tmux("send-keys", "-t", dash, "n");
    await eventually(() => last() === "cancelled", "cancelled");
    expect(agent()).not.toContain("!wm merge --keep");
    own.tmux("send-keys", "-t", dash, "m");
    await eventually(() => last().endsWith("[y/n]"), "the question again");
    own.tmux("send-keys", "-t", dash, "y");
    await eventually(
      () => agent().filter((l) => l === "!wm merge --keep").length === 2,
      "the text and Enter in the agent pane (cat echoes the line)",
    );
    await eventually(() => last() === "asked the agent of feature-gamma to merge", "the outcome");
    expect(own.git(own.repo, "branch", "--list", "feature/gamma")).toContain("feature/gamma");
    expect(shown().some((l) => l.startsWith("> "))).toBe(true);
    own.tmux("send-keys", "-t", dash, "q");
  });
});
