import { describe, expect, it } from "vitest";
import { MAX_PREPARED, PreparedSandboxes, requestKey } from "./prepared.ts";

const req = {
  worktree: "/w",
  command: ["claude"],
  tty: true,
  interactive: true,
  size: { rows: 40, cols: 120 },
  env: { TERM: "xterm", LANG: "C" },
};

describe("requestKey", () => {
  it("is the same for the same request, whatever the order of its environment", () => {
    expect(requestKey(req)).toBe(requestKey({ ...req, env: { LANG: "C", TERM: "xterm" } }));
  });

  it("differs with the command, the agent, the terminal, its size or the environment", () => {
    const key = requestKey(req);
    for (const other of [
      { ...req, command: ["claude", "--resume"] },
      { ...req, agent: "codex" },
      { ...req, tty: false },
      { ...req, interactive: false },
      { ...req, size: { rows: 41, cols: 120 } },
      { ...req, env: { ...req.env, TERM: "screen" } },
    ])
      expect(requestKey(other)).not.toBe(key);
  });

  it("ignores the size without a terminal (it is not part of the command then)", () => {
    const noTty = { ...req, tty: false };
    expect(requestKey({ ...noTty, size: { rows: 1, cols: 1 } })).toBe(requestKey(noTty));
  });
});

describe("PreparedSandboxes", () => {
  const store = () => {
    const dropped: string[] = [];
    const prepared = new PreparedSandboxes<string>(async (made) => {
      dropped.push(made);
    });
    return { prepared, dropped };
  };

  it("hands what was made for the same key to one caller only", async () => {
    const { prepared, dropped } = store();
    prepared.add("/w", "k", async () => "box");
    expect(await prepared.take("/w", "k")).toBe("box");
    expect(await prepared.take("/w", "k")).toBeUndefined();
    expect(dropped).toEqual([]);
  });

  it("drops what was made for another key, and hands nothing", async () => {
    const { prepared, dropped } = store();
    let made!: (v: string) => void;
    prepared.add("/w", "k", () => new Promise((resolve) => (made = resolve)));
    expect(await prepared.take("/w", "other")).toBeUndefined();
    made("box");
    await expect.poll(() => dropped).toEqual(["box"]);
  });

  it("keeps at most MAX_PREPARED worktrees, dropping the oldest", async () => {
    const { prepared, dropped } = store();
    for (let i = 0; i <= MAX_PREPARED; i++) prepared.add(`/w${i}`, "k", async () => `box${i}`);
    await expect.poll(() => dropped).toEqual(["box0"]);
    expect(prepared.has("/w0")).toBe(false);
    expect(prepared.made()).toHaveLength(MAX_PREPARED);
  });

  it("clear drops every one and waits for it", async () => {
    const { prepared, dropped } = store();
    prepared.add("/a", "k", async () => "a");
    prepared.add("/b", "k", async () => undefined);
    await prepared.clear();
    expect(dropped).toEqual(["a"]);
  });
});
