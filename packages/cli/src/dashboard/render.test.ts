import { describe, expect, it } from "vitest";
import type { DashboardRow } from "./model.ts";
import {
  buildRows,
  DEFAULT_COMMIT,
  dashboardSettingsOf,
  filterRows,
  plainIcon,
  sortRows,
} from "./model.ts";
import { type DashboardView, EMPTY_TEXT, HELP_LINES, renderFrame } from "./render.ts";
import { displayWidth } from "./text-width.ts";

const NOW = Date.parse("2030-01-01T12:00:00Z");

function row(over: Partial<DashboardRow> = {}): DashboardRow {
  return {
    handle: "feature-one",
    branch: "feature/one",
    path: "/src/proj__worktrees/feature-one",
    repo: "/src/proj",
    status: "working",
    icon: "🤖",
    sandbox: false,
    sandboxState: null,
    egress: null,
    lastActivity: new Date(NOW - 42_000).toISOString(),
    diff: { base: "main", files: 3, added: 10, removed: 2 },
    window: "wm-feature-one",
    exists: true,
    ...over,
  };
}

function view(over: Partial<DashboardView> = {}): DashboardView {
  return { rows: [], selected: 0, now: NOW, help: false, prompt: null, message: null, ...over };
}

const CSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
const strip = (s: string) => s.replace(CSI, "");

describe("renderFrame", () => {
  it("shows each row's status icon, name, branch, sandbox, activity and diff size", () => {
    const rows = [
      row(),
      row({
        handle: "fix",
        branch: "fix/it",
        path: "/src/proj__worktrees/fix",
        status: null,
        icon: null,
        sandbox: true,
        sandboxState: "running",
        diff: { base: "main", files: 1, added: 0, removed: 5 },
      }),
    ];
    const lines = renderFrame(view({ rows }), 120, 10);
    expect(lines[0]).toContain("2 worktrees");
    expect(lines[0]).toContain("1 working");
    expect(lines[1]).toMatch(/STATUS\s+NAME\s+BRANCH\s+SANDBOX\s+ACTIVITY\s+DIFF/);
    expect(lines[2]).toMatch(
      /^> 🤖 working\s+feature-one\s+feature\/one\s+host\s+42s ago\s+\+10 -2, 3 files$/,
    );
    expect(lines[3]).toMatch(/^ {2}-\s+fix\s+fix\/it\s+running\s+42s ago\s+\+0 -5, 1 file$/);
  });

  it("shows the denials of a sandbox under network.policy: deny beside its state, none when there are none", () => {
    const rows = [
      row({ sandbox: true, sandboxState: "running", egress: { allowed: 5, denied: 3 } }),
      row({
        handle: "b",
        sandbox: true,
        sandboxState: "running",
        egress: { allowed: 1, denied: 0 },
      }),
    ];
    const lines = renderFrame(view({ rows }), 120, 10);
    expect(lines[2]).toMatch(/feature\/one\s+running, 3 denied\s+42s ago/);
    expect(lines[3]).toMatch(/feature\/one\s+running\s+42s ago/);
  });

  it("never makes a line wider than the terminal, wide icons included", () => {
    const rows = Array.from({ length: 5 }, (_, i) =>
      row({ handle: `agent-${i}-${"x".repeat(30)}`, icon: "✅", status: "done" }),
    );
    for (const width of [120, 80, 41, 17, 3, 1, 0]) {
      const lines = renderFrame(view({ rows, selected: 2, message: "m".repeat(300) }), width, 12, {
        ansi: true,
        footer: true,
      });
      expect(lines.length).toBeLessThanOrEqual(12);
      for (const l of lines) expect(displayWidth(strip(l))).toBeLessThanOrEqual(width);
    }
  });

  it("marks the selected row and keeps it in view when the list is taller than the screen", () => {
    const rows = Array.from({ length: 20 }, (_, i) => row({ handle: `w${i}`, path: `/p/w${i}` }));
    const lines = renderFrame(view({ rows, selected: 15 }), 80, 8, { footer: true });
    expect(lines).toHaveLength(8);
    const marked = lines.filter((l) => l.startsWith("> "));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/^> 🤖 working\s+w15\s/);
    expect(lines.at(-1)).toContain("q quit");
    const ansi = renderFrame(view({ rows, selected: 0 }), 80, 8, { ansi: true, footer: true });
    expect(ansi[2]?.startsWith("\x1b[7m> ")).toBe(true);
    expect(displayWidth(strip(ansi[2] as string))).toBe(80);
    const none = renderFrame(view({ rows, selected: -1 }), 80, 30);
    expect(none.some((l) => l.startsWith(">"))).toBe(false);
  });

  it("says how to start an agent when there are no worktrees", () => {
    const lines = renderFrame(view(), 80, 10, { footer: true });
    expect(lines[0]).toContain("0 worktrees");
    expect(lines[2]).toBe(`  ${EMPTY_TEXT}`);
    expect(lines).toHaveLength(10);
  });

  it("shows the question, else the message, on the bottom line; help replaces the list", () => {
    const rows = [row()];
    const asked = renderFrame(view({ rows, prompt: "merge x? [y/n]", message: "old" }), 80, 6, {
      footer: true,
    });
    expect(asked.at(-1)).toBe("merge x? [y/n]");
    const told = renderFrame(view({ rows, message: "boom\x1b[2J" }), 80, 6, { footer: true });
    expect(told.at(-1)).toBe("boom\\x1b[2J");
    const help = renderFrame(view({ rows, help: true }), 80, 30);
    expect(help.slice(2)).toEqual([...HELP_LINES]);
  });

  it("splits the body between the list and the preview, escaping the pane's text", () => {
    const rows = Array.from({ length: 10 }, (_, i) => row({ handle: `w${i}`, path: `/p/w${i}` }));
    const preview = {
      title: "w0 (d: diff)",
      lines: ["old", "red \x1b[31mtext", "last"],
      size: 50,
    };
    const lines = renderFrame(view({ rows, preview, sort: "name", filter: "w" }), 80, 13, {
      footer: true,
    });
    expect(lines).toHaveLength(13);
    expect(lines[0]).toContain("sort: name  ·  filter: w");
    expect(lines.slice(2, 7).filter((l) => /^(> | {2})🤖/.test(l))).toHaveLength(5);
    expect(lines[7]).toBe("── w0 (d: diff) ──");
    expect(lines.slice(8, 12)).toEqual(["old", "red \\x1b[31mtext", "last", ""]);
    const empty = renderFrame(view({ filter: "zz" }), 80, 5);
    expect(empty[2]).toBe("  no match");
  });

  it("names the repository when worktrees of several are shown, and marks missing ones", () => {
    const rows = [row(), row({ repo: "/src/other", handle: "b", path: "/x/b", exists: false })];
    const lines = renderFrame(view({ rows }), 120, 10);
    expect(lines[2]).toContain("proj/feature-one");
    expect(lines[3]).toContain("other/b (gone)");
  });
});

describe("buildRows", () => {
  it("takes the configured icon without tmux styles and the sandbox's state", () => {
    expect(plainIcon("#[fg=yellow]Q?#[default]")).toBe("Q?");
    const rows = buildRows(
      [
        {
          handle: "a",
          branch: "a",
          path: "/w/a",
          repo: "/r",
          window: null,
          status: "waiting",
          statusAt: null,
          lastActivity: "2030-01-01T00:00:00Z",
          createdAt: "2030-01-01T00:00:00Z",
          sandbox: true,
          exists: true,
        },
      ],
      [
        { worktree: "/w/a", state: "exited", exitCode: 1, createdAt: "2030-01-01T00:00:00Z" },
        {
          worktree: "/w/a",
          state: "running",
          exitCode: null,
          createdAt: "2029-01-01T00:00:00Z",
          egress: { allowed: 2, denied: 1 },
        },
      ] as never,
      new Map([["/r", { waiting: "#[fg=yellow]💬" }]]),
    );
    expect(rows[0]).toMatchObject({
      icon: "💬",
      sandboxState: "running",
      egress: { allowed: 2, denied: 1 },
      diff: null,
    });
  });
});

describe("sortRows and filterRows", () => {
  const rows = [
    row({ handle: "b", status: "working", repo: "/r2", lastActivity: "2030-01-01T00:00:03Z" }),
    row({ handle: "a", status: null, repo: "/r1", lastActivity: "2030-01-01T00:00:01Z" }),
    row({ handle: "c", status: "waiting", repo: "/r2", lastActivity: "2030-01-01T00:00:02Z" }),
    row({ handle: "d", branch: "fix/Thing", status: "done", repo: "/r1" }),
  ];
  const names = (rs: readonly DashboardRow[]) => rs.map((r) => r.handle).join("");

  it("orders by status, project, activity, the daemon's order or name", () => {
    expect(names(sortRows(rows, "priority"))).toBe("cdba");
    expect(names(sortRows(rows, "project"))).toBe("dacb");
    expect(names(sortRows(rows, "recency"))).toBe("dbca");
    expect(names(sortRows(rows, "natural"))).toBe("bacd");
    expect(names(sortRows(rows, "name"))).toBe("abcd");
  });

  it("keeps rows whose name or branch holds the text, ignoring case", () => {
    expect(names(filterRows(rows, "THING"))).toBe("d");
    expect(names(filterRows(rows, " "))).toBe("bacd");
  });

  it("reads dashboard.* settings with workmux's defaults, clamping preview_size", () => {
    expect(dashboardSettingsOf(undefined)).toEqual({
      commit: DEFAULT_COMMIT,
      merge: null,
      sortMode: "priority",
      previewSize: 60,
    });
    expect(
      dashboardSettingsOf({
        dashboard: { commit: "go", merge: "!wm merge", sort_mode: "recency", preview_size: 200 },
      }),
    ).toEqual({ commit: "go", merge: "!wm merge", sortMode: "recency", previewSize: 90 });
    expect(
      dashboardSettingsOf({ dashboard: { sort_mode: "bogus", preview_size: 1 } }),
    ).toMatchObject({ sortMode: "priority", previewSize: 10 });
  });
});
