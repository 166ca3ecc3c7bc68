// devbox is not installable on the machines the tests run on: its side is covered here as a
// contract. The form `devbox run` gives its arguments (see `devboxScript`) is replayed with a
// real shell; `toolchain-nix.test.ts` runs the Nix side for real.
import { execFileSync, spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  detectToolchainFiles,
  ToolchainError,
  toolchainCommand,
  toolchainPreflight,
  withToolchainPreflight,
} from "./toolchain.ts";

const CMD = ["claude", "--dangerously-skip-permissions"] as const;
const NIX = ["nix", "--extra-experimental-features", "nix-command flakes", "develop", "-c"];
const none = { devbox: false, flake: false };
const both = { devbox: true, flake: true };

/** Arguments that a shell would change if they were not passed through exactly. */
const AWKWARD = [
  "two  spaces",
  "line\nbreak\n",
  "\ttab",
  "$HOME",
  "`id`",
  "$(id)",
  "it's",
  '"quoted"',
  "back\\slash",
  "100%",
  "%s",
  "*",
  "-n",
  "--flag=x y",
  "",
  "ünï 😀",
];

/** A node that prints the argv it got, as JSON. */
const PRINT_ARGV = [
  process.execPath,
  "-e",
  "process.stdout.write(JSON.stringify(process.argv.slice(1)))",
];

/**
 * What `devbox run -- NAME ARGS…` does with its arguments (devbox `RunScript`): each ARG in Go
 * double quotes, NAME as it is, joined by spaces into DEVBOX_RUN_CMD, then `eval $DEVBOX_RUN_CMD`
 * by a shell in the project directory.
 */
function replayDevboxRun(argv: readonly string[], shell: string, cwd: string): string {
  expect(argv.slice(0, 3)).toEqual(["devbox", "run", "--"]);
  const [name, ...args] = argv.slice(3);
  const line = [name, ...args.map((a) => JSON.stringify(a))].join(" ");
  return execFileSync(shell, ["-c", "eval $DEVBOX_RUN_CMD"], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, DEVBOX_RUN_CMD: line },
    encoding: "utf8",
    // bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are.
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("toolchainCommand", () => {
  it("auto leaves the command as it is when the worktree has neither file", () => {
    expect(toolchainCommand("auto", none, CMD)).toEqual({ command: [...CMD], toolchain: null });
  });

  it("auto runs the command in nix develop for a flake.nix", () => {
    expect(toolchainCommand("auto", { devbox: false, flake: true }, CMD)).toEqual({
      command: [...NIX, ...CMD],
      toolchain: "flake",
    });
  });

  it("auto runs the command in devbox run for a devbox.json", () => {
    const r = toolchainCommand("auto", { devbox: true, flake: false }, CMD);
    expect(r.toolchain).toBe("devbox");
    expect(r.command.slice(0, 3)).toEqual(["devbox", "run", "--"]);
    expect(r.command).toHaveLength(4);
  });

  it("auto picks devbox when the worktree has both files, as workmux does", () => {
    expect(toolchainCommand("auto", both, CMD).toolchain).toBe("devbox");
  });

  it("off runs the command as it is, whatever files there are", () => {
    expect(toolchainCommand("off", both, CMD)).toEqual({ command: [...CMD], toolchain: null });
  });

  it("devbox and flake force their toolchain", () => {
    expect(toolchainCommand("flake", both, CMD)).toEqual({
      command: [...NIX, ...CMD],
      toolchain: "flake",
    });
    expect(toolchainCommand("devbox", both, CMD).toolchain).toBe("devbox");
  });

  it.each([
    ["flake", "flake.nix", { devbox: true, flake: false }],
    ["devbox", "devbox.json", { devbox: false, flake: true }],
  ] as const)("%s without %s is an error naming the key and the file", (setting, file, files) => {
    const err = (() => {
      try {
        toolchainCommand(setting, files, CMD);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as ToolchainError).key).toBe("sandbox.toolchain");
    expect((err as Error).message).toBe(
      `sandbox.toolchain is "${setting}", but the worktree has no ${file} at its top ` +
        "(a symlink counts only when it leads to a regular file inside the worktree); " +
        `add ${file}, or set sandbox.toolchain to auto or off`,
    );
  });

  it("gives a new array and leaves the caller's alone", () => {
    const cmd = ["a", "b"];
    const r = toolchainCommand("off", none, cmd);
    r.command.push("c");
    expect(cmd).toEqual(["a", "b"]);
  });

  it("refuses an empty command", () => {
    expect(() => toolchainCommand("auto", none, [])).toThrow(/empty/);
  });
});

describe("the devbox form against devbox's own evaluation", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-devbox-"));
    // Names a glob in an unquoted expansion would pick up.
    await fs.writeFile(path.join(dir, "'a"), "");
    await fs.writeFile(path.join(dir, "x"), "");
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("control: devbox's own quoting changes such arguments", () => {
    const line = replayDevboxRun(["devbox", "run", "--", ...PRINT_ARGV, ...AWKWARD], "sh", dir);
    expect(JSON.parse(line)).not.toEqual(AWKWARD);
  });

  it.each(["sh", "bash"])("argv reaches the command exactly, under %s", (shell) => {
    const { command } = toolchainCommand("devbox", both, [...PRINT_ARGV, ...AWKWARD]);
    expect(JSON.parse(replayDevboxRun(command, shell, dir))).toEqual(AWKWARD);
  });

  it("the word devbox gets has no blank but single spaces and no glob character", () => {
    const [, , , script] = toolchainCommand("devbox", both, [...PRINT_ARGV, ...AWKWARD]).command;
    expect(script).not.toMatch(/[\t\n*?[]| {2}/);
  });
});

describe("toolchainPreflight", () => {
  let bin: string;
  beforeAll(async () => {
    bin = await fs.mkdtemp(path.join(os.tmpdir(), "wm-preflight-"));
  });
  afterAll(() => fs.rm(bin, { recursive: true, force: true }));

  /** Runs the guest argv with PATH = the temp bin alone (this machine may have nix). */
  function run(argv: string[]) {
    return spawnSync(argv[0] as string, argv.slice(1), {
      env: { PATH: bin },
      encoding: "utf8",
    });
  }

  it("is empty, and the command unchanged, with no toolchain", () => {
    expect(toolchainPreflight(null)).toBe("");
    expect(withToolchainPreflight(null, ["echo", "hi"])).toEqual(["echo", "hi"]);
  });

  it.each([
    ["flake", [], "nix", "flake.nix"],
    ["devbox", [], "devbox", "devbox.json"],
    ["devbox", ["devbox"], "nix", "devbox.json"],
  ] as const)(
    "%s with %j on PATH: exits 127 naming %s and the key",
    async (toolchain, present, tool, file) => {
      for (const p of present)
        await fs.writeFile(path.join(bin, p), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const r = run(withToolchainPreflight(toolchain, ["/bin/echo", "ran"]));
      for (const p of present) await fs.rm(path.join(bin, p));
      expect(r.status).toBe(127);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `wm: the agent runs inside "${toolchain === "flake" ? "nix develop" : "devbox run"}" ` +
          `(sandbox.toolchain, for the worktree's ${file}), but ${tool} is not installed in this ` +
          `sandbox: install ${tool} in the sandbox's image, or set sandbox.toolchain: off\n`,
      );
    },
  );

  it.each([
    ["flake", ["nix"]],
    ["devbox", ["devbox", "nix"]],
  ] as const)(
    "%s runs the command with its arguments once %j are on PATH",
    async (toolchain, tools) => {
      for (const t of tools)
        await fs.writeFile(path.join(bin, t), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const r = run(withToolchainPreflight(toolchain, [...PRINT_ARGV, ...AWKWARD]));
      for (const t of tools) await fs.rm(path.join(bin, t));
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual(AWKWARD);
    },
  );
});

describe("detectToolchainFiles", () => {
  let root: string;
  let wt: string;
  let n = 0;
  const fresh = async () => {
    const dir = path.join(wt, `case-${n++}`);
    await fs.mkdir(dir);
    return dir;
  };

  beforeAll(async () => {
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-toolchain-")));
    wt = path.join(root, "wt");
    await fs.mkdir(wt);
    await fs.writeFile(path.join(root, "outside.nix"), "{}");
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("finds neither in an empty worktree", async () => {
    expect(await detectToolchainFiles(await fresh())).toEqual(none);
  });

  it("finds regular files", async () => {
    const dir = await fresh();
    await fs.writeFile(path.join(dir, "devbox.json"), "{}");
    expect(await detectToolchainFiles(dir)).toEqual({ devbox: true, flake: false });
    await fs.writeFile(path.join(dir, "flake.nix"), "{}");
    expect(await detectToolchainFiles(dir)).toEqual(both);
  });

  it("counts a symlink to a regular file inside the worktree", async () => {
    const dir = await fresh();
    await fs.mkdir(path.join(dir, "nix"));
    await fs.writeFile(path.join(dir, "nix", "flake.nix"), "{}");
    await fs.symlink("nix/flake.nix", path.join(dir, "flake.nix"));
    expect(await detectToolchainFiles(dir)).toEqual({ devbox: false, flake: true });
  });

  it("does not count a symlink that leads outside the worktree", async () => {
    const dir = await fresh();
    await fs.symlink(path.join(root, "outside.nix"), path.join(dir, "flake.nix"));
    await fs.symlink("../../outside.nix", path.join(dir, "devbox.json"));
    expect(await detectToolchainFiles(dir)).toEqual(none);
  });

  it("does not count a directory, a dangling link, a loop, a link to a directory or a FIFO", async () => {
    const dir = await fresh();
    await fs.mkdir(path.join(dir, "flake.nix"));
    await fs.symlink("missing.json", path.join(dir, "devbox.json"));
    expect(await detectToolchainFiles(dir)).toEqual(none);

    const loop = await fresh();
    await fs.symlink("flake.nix", path.join(loop, "flake.nix"));
    await fs.mkdir(path.join(loop, "sub"));
    await fs.symlink("sub", path.join(loop, "devbox.json"));
    expect(await detectToolchainFiles(loop)).toEqual(none);

    const fifo = await fresh();
    execFileSync("mkfifo", [path.join(fifo, "flake.nix")]);
    expect(await detectToolchainFiles(fifo)).toEqual(none);
  });

  it("judges links against the worktree's real path when it is reached through a symlink", async () => {
    const dir = await fresh();
    await fs.writeFile(path.join(dir, "real.nix"), "{}");
    const alias = path.join(root, `alias-${n}`);
    await fs.symlink(dir, alias);
    await fs.symlink(path.join(alias, "real.nix"), path.join(dir, "flake.nix"));
    expect(await detectToolchainFiles(alias)).toEqual({ devbox: false, flake: true });
  });

  it("fails when the worktree itself is missing", async () => {
    await expect(detectToolchainFiles(path.join(root, "gone"))).rejects.toThrow(/ENOENT/);
  });
});
