import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { WmConfig } from "../config/index.ts";
import { paneCommand, planPane, windowSpecs } from "./pane-commands.ts";
import { shellQuote } from "./wm-command.ts";

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
      "wm sandbox run --worktree '/w/my tree' -- sh -c claude",
    );
    expect(paneCommand("npm test", ctx(true))).toBe("npm test");
    expect(paneCommand(undefined, ctx(true))).toBeUndefined();
  });

  it("with sandbox.target all wraps every pane, a shell pane as wm sandbox shell", () => {
    const all = ctx(true, { sandbox: { target: "all" } });
    expect(paneCommand("npm test", all)).toBe(
      "wm sandbox run --worktree '/w/my tree' -- sh -c 'npm test'",
    );
    expect(paneCommand(undefined, all)).toBe("wm sandbox shell --worktree '/w/my tree'");
  });

  it("says what each pane runs and whether it is sandboxed", () => {
    expect(planPane("<agent> --resume", ctx(true))).toMatchObject({
      runs: "claude --resume",
      sandboxed: true,
      agent: true,
    });
    expect(planPane("npm test", ctx(true))).toEqual({
      line: "npm test",
      runs: "npm test",
      sandboxed: false,
      agent: false,
    });
    expect(planPane(undefined, ctx(true))).toEqual({
      line: undefined,
      runs: undefined,
      sandboxed: false,
    });
    const all = ctx(true, { sandbox: { target: "all" } });
    expect(planPane(undefined, all)).toMatchObject({ runs: undefined, sandboxed: true });
    expect(planPane("<agent>", ctx(false))).toMatchObject({
      runs: "claude",
      sandboxed: false,
      agent: true,
    });
  });

  it("uses panes in window mode and windows in session mode", () => {
    const c = ctx(false, {
      windows: [{ name: "a", panes: [{ command: "<agent>" }] }, { name: "b" }],
    });
    expect(windowSpecs(c, "window")).toEqual([
      {
        panes: [
          {
            command: "claude",
            plan: { line: "claude", runs: "claude", sandboxed: false, agent: true },
          },
        ],
      },
    ]);
    expect(windowSpecs(c, "session").map((w) => w.name)).toEqual(["a", "b"]);
  });
});

// The sandboxed line is typed into a host shell. Parsed back by a real `sh`, with a stub `wm`
// on PATH that prints its argv, it must yield exactly `wm sandbox run --worktree P -- sh -c
// ORIGINAL`, and the host shell must run nothing else (no leaked file, no extra output).
describe("a sandboxed pane command reaches the sandbox whole", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "wm-pane-"));
  const bin = path.join(tmp, "bin");
  const leak = path.join(tmp, "leak");
  execFileSync("mkdir", ["-p", bin, leak]);
  writeFileSync(path.join(bin, "wm"), "#!/bin/sh\nprintf '%s\\0' \"$@\"\n", { mode: 0o755 });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Runs `line` in a host `sh` with the stub `wm`; returns the argv `wm` received. */
  const argvOf = (line: string): string[] => {
    const out = execFileSync("sh", ["-c", line], {
      cwd: tmp,
      env: { PATH: `${bin}:/usr/bin:/bin` },
      encoding: "utf8",
    });
    expect(out.endsWith("\0"), `output of ${JSON.stringify(line)}: ${JSON.stringify(out)}`).toBe(
      true,
    );
    return out.slice(0, -1).split("\0");
  };

  const L = `${leak}/m`;
  const cases: Array<[string, string]> = [
    ["semicolon", `true; echo H=$(hostname) >> ${L}1`],
    ["and", `true && echo x >> ${L}2`],
    ["or", `false || echo x >> ${L}3`],
    ["pipe", `echo x | tee -a ${L}4`],
    ["command substitution", `echo $(echo x >> ${L}5)`],
    ["backticks", `echo \`echo x >> ${L}6\``],
    ["newline", `true\necho x >> ${L}7`],
    ["quotes", `echo 'it'"'"'s' "a \\"b\\"" 'c'\\''d'; echo x >> ${L}8`],
    ["comment", `echo x >> ${L}9 # it's a comment; echo y >> ${L}9b`],
    ["trailing &", `echo x >> ${L}10 &`],
    ["here-doc", `cat <<EOF >> ${L}11\nx $(hostname)\nEOF\necho done`],
    ["redirect", `echo x > ${L}12`],
    ["history and globs", `echo !! * ~ {a,b} \\ %1`],
    ["empty-looking", "   "],
  ];

  it.each(cases)("%s", (_name, command) => {
    const line = paneCommand(command, ctx(true, { sandbox: { target: "all" } })) as string;
    expect(argvOf(line)).toEqual([
      "sandbox",
      "run",
      "--worktree",
      "/w/my tree",
      "--",
      "sh",
      "-c",
      command,
    ]);
    expect(readdirSync(leak)).toEqual([]);
  });

  it("an agent pane (target agent) is wrapped whole too", () => {
    const command = `<agent> --x; echo x >> ${L}a`;
    const line = paneCommand(command, ctx(true)) as string;
    expect(argvOf(line).slice(5)).toEqual(["sh", "-c", `claude --x; echo x >> ${L}a`]);
    expect(readdirSync(leak)).toEqual([]);
  });

  it("the agent's prompt argument is part of the one argument, read by cat inside", () => {
    const prompt = path.join(tmp, "PROMPT x.md");
    const text = "it's `$(a) prompt`; echo nope >> leaked";
    writeFileSync(prompt, `${text}\n`);
    const line = paneCommand("<agent> --resume", { ...ctx(true), promptFile: prompt }) as string;
    const inner = `claude --resume "$(cat ${shellQuote(prompt)})"`;
    expect(argvOf(line)).toEqual([
      "sandbox",
      "run",
      "--worktree",
      "/w/my tree",
      "--",
      "sh",
      "-c",
      inner,
    ]);
    // What the sandbox then runs: cat reads the file there; the prompt is one argument.
    writeFileSync(path.join(bin, "claude"), "#!/bin/sh\nprintf '%s\\0' \"$@\"\n", {
      mode: 0o755,
    });
    const out = execFileSync("sh", ["-c", inner], {
      cwd: tmp,
      env: { PATH: `${bin}:/usr/bin:/bin` },
      encoding: "utf8",
    });
    expect(out.split("\0")).toEqual(["--resume", text, ""]);
    expect(existsSync(path.join(tmp, "leaked"))).toBe(false);
  });
});
