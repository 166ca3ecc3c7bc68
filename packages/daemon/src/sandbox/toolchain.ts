import { promises as fs } from "node:fs";
import path from "node:path";
import { shellQuote } from "../worktrees/wm-command.ts";
import { inside } from "./mount-refusals.ts";

/** `sandbox.toolchain`: which environment the agent's command runs in. */
export type ToolchainSetting = "auto" | "off" | "devbox" | "flake";
export type Toolchain = "devbox" | "flake";

/** Which toolchain files the top of a worktree has (see `detectToolchainFiles`). */
export interface ToolchainFiles {
  devbox: boolean;
  flake: boolean;
}

export const TOOLCHAIN_FILE: Readonly<Record<Toolchain, string>> = {
  devbox: "devbox.json",
  flake: "flake.nix",
};
/** What each toolchain runs in the guest: devbox needs nix under it (and would offer to install it). */
const TOOLS: Readonly<Record<Toolchain, readonly string[]>> = {
  devbox: ["devbox", "nix"],
  flake: ["nix"],
};

/** `sandbox.toolchain` forces a toolchain whose file the worktree does not have. */
export class ToolchainError extends Error {
  readonly key = "sandbox.toolchain";
}

/**
 * The command to run for `setting`, given the files the worktree has. `auto` picks Devbox when
 * both files are there (as workmux does), `off` runs the command as it is, and `devbox` /
 * `flake` insist on their file.
 */
export function toolchainCommand(
  setting: ToolchainSetting,
  files: ToolchainFiles,
  command: readonly string[],
): { command: string[]; toolchain: Toolchain | null } {
  if (command.length === 0) throw new Error("toolchainCommand: the command is empty");
  const toolchain = chosenToolchain(setting, files);
  if (toolchain === null) return { command: [...command], toolchain };
  return { command: wrapped(toolchain, command), toolchain };
}

function chosenToolchain(setting: ToolchainSetting, files: ToolchainFiles): Toolchain | null {
  switch (setting) {
    case "off":
      return null;
    case "auto":
      return files.devbox ? "devbox" : files.flake ? "flake" : null;
    case "devbox":
    case "flake": {
      if (files[setting]) return setting;
      const file = TOOLCHAIN_FILE[setting];
      throw new ToolchainError(
        `sandbox.toolchain is "${setting}", but the worktree has no ${file} at its top ` +
          "(a symlink counts only when it leads to a regular file inside the worktree); " +
          `add ${file}, or set sandbox.toolchain to auto or off`,
      );
    }
  }
}

function wrapped(toolchain: Toolchain, command: readonly string[]): string[] {
  if (toolchain === "flake") {
    // `nix develop -c` execs its arguments one by one, quoted: argv arrives as it was.
    return [
      "nix",
      "--extra-experimental-features",
      "nix-command flakes",
      "develop",
      "-c",
      ...command,
    ];
  }
  return ["devbox", "run", "--", devboxScript(command)];
}

/**
 * `devbox run -- NAME ARGS…` does not exec its arguments: it puts NAME and each ARG wrapped in
 * Go double quotes (which leave `$` and backquotes live) into one line and runs
 * `eval $DEVBOX_RUN_CMD`, whose unquoted expansion also splits on blanks and globs. So devbox
 * gets one word, NAME, holding a script with no blank but single spaces and no glob character:
 * it rebuilds argv with `printf` from octal escapes and execs it.
 */
export function devboxScript(command: readonly string[]): string {
  const steps = command.map((arg) => `a=$(printf '${octalEscaped(arg)}x'); set -- "$@" "\${a%x}";`);
  return ["set --;", ...steps, 'exec "$@"'].join(" ");
}

/** `arg` as a printf format: letters and the like as they are, every other byte `\ooo`. */
function octalEscaped(arg: string): string {
  let out = "";
  for (const byte of Buffer.from(arg, "utf8")) {
    const ch = String.fromCharCode(byte);
    // A leading "-" would read as an option of printf.
    const plain = /[A-Za-z0-9_./,:=@+-]/.test(ch) && !(out === "" && ch === "-");
    out += plain ? ch : `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return out;
}

/**
 * A shell statement for the guest, to run before the command: exit 127 with a message naming
 * the missing program and `sandbox.toolchain` when a program the toolchain runs is not on
 * PATH. Empty for no toolchain.
 */
export function toolchainPreflight(toolchain: Toolchain | null): string {
  if (toolchain === null) return "";
  const runner = toolchain === "flake" ? "nix develop" : "devbox run";
  return TOOLS[toolchain]
    .map((tool) => {
      const message =
        `wm: the agent runs inside "${runner}" (sandbox.toolchain, for the worktree's ` +
        `${TOOLCHAIN_FILE[toolchain]}), but ${tool} is not installed in this sandbox: ` +
        `install ${tool} in the sandbox's image, or set sandbox.toolchain: off`;
      return `command -v ${tool} >/dev/null 2>&1 || { printf '%s\\n' ${shellQuote(message)} >&2; exit 127; }; `;
    })
    .join("");
}

/** `command` behind `toolchainPreflight`, as one argv for the guest. */
export function withToolchainPreflight(
  toolchain: Toolchain | null,
  command: readonly string[],
): string[] {
  if (toolchain === null) return [...command];
  return ["/bin/sh", "-c", `${toolchainPreflight(toolchain)}exec "$@"`, "sh", ...command];
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP";
}

/**
 * A regular file named `name` at the top of `root` (already realpath'd). A symlink counts only
 * when its realpath is a regular file inside the worktree: the guest sees the worktree, not
 * what a link leads to outside it, and nothing outside it picks the agent's environment.
 */
async function hasFile(root: string, name: string): Promise<boolean> {
  const at = path.join(root, name);
  let st: Awaited<ReturnType<typeof fs.lstat>>;
  try {
    st = await fs.lstat(at);
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  if (st.isFile()) return true;
  if (!st.isSymbolicLink()) return false;
  try {
    const target = await fs.realpath(at);
    return inside(target, root) && (await fs.stat(target)).isFile();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** Which of `devbox.json` and `flake.nix` the top of the worktree has. */
export async function detectToolchainFiles(worktreePath: string): Promise<ToolchainFiles> {
  const root = await fs.realpath(worktreePath);
  const [devbox, flake] = await Promise.all([
    hasFile(root, TOOLCHAIN_FILE.devbox),
    hasFile(root, TOOLCHAIN_FILE.flake),
  ]);
  return { devbox, flake };
}
