import { describe, expect, it } from "vitest";
import type { WmConfig } from "../config/index.ts";
import { paneCommand, windowSpecs } from "./pane-commands.ts";

const config = (over: Record<string, unknown> = {}) =>
  ({
    agent: "claude",
    agents: { fast: { command: "claude", args: ["--model", "haiku 4"] } },
    sandbox: { target: "agent" },
    ...over,
  }) as unknown as WmConfig;

const ctx = (sandbox: boolean, over: Record<string, unknown> = {}) => ({
  config: config(over),
  worktree: "/w/my tree",
  sandbox,
  wm: ["wm"],
});

describe("pane commands", () => {
  it("substitutes <agent> and <agent:name>", () => {
    expect(paneCommand("<agent> --resume", ctx(false))).toBe("claude --resume");
    expect(paneCommand("<agent:fast>", ctx(false))).toBe("claude --model 'haiku 4'");
    expect(() => paneCommand("<agent:nope>", ctx(false))).toThrow(/does not define/);
  });

  it("wraps agent panes as wm sandbox run when sandboxed; other panes stay on the host", () => {
    expect(paneCommand("<agent>", ctx(true))).toBe(
      "wm sandbox run --worktree '/w/my tree' -- claude",
    );
    expect(paneCommand("npm test", ctx(true))).toBe("npm test");
    expect(paneCommand(undefined, ctx(true))).toBeUndefined();
  });

  it("with sandbox.target all wraps every pane, a shell pane as wm sandbox shell", () => {
    const all = ctx(true, { sandbox: { target: "all" } });
    expect(paneCommand("npm test", all)).toBe("wm sandbox run --worktree '/w/my tree' -- npm test");
    expect(paneCommand(undefined, all)).toBe("wm sandbox shell --worktree '/w/my tree'");
  });

  it("uses panes in window mode and windows in session mode", () => {
    const c = ctx(false, {
      windows: [{ name: "a", panes: [{ command: "<agent>" }] }, { name: "b" }],
    });
    expect(windowSpecs(c, "window")).toEqual([{ panes: [{ command: "claude" }] }]);
    expect(windowSpecs(c, "session").map((w) => w.name)).toEqual(["a", "b"]);
  });
});
