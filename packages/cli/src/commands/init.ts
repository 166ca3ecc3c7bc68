import { lstat } from "node:fs/promises";
import path from "node:path";
import { PlantedPathError, writeFileUnder } from "@wm/daemon/fs/no-follow";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { defineCommand } from "./spec.ts";

const FILE = ".workmux.yaml";

/** The project file `wm init` writes: every line a comment, so it changes nothing until edited. */
export const INIT_TEMPLATE = `# Project configuration for wm and workmux; the global file is read first and this one wins.
# Every key: docs/configuration.md. "wm config" shows the effective values.

# The branch worktrees are made from and merged into (default: detected).
# main_branch: main

# The agent for <agent> panes (a command, or a name from the global agents map).
# agent: claude

# The panes of each worktree's window.
# panes:
#   - command: <agent>
#     focus: true
#   - split: horizontal

# Files copied or symlinked from the main worktree into each new worktree.
# files:
#   copy: [.env]
#   symlink: [node_modules]

# Commands run in a new worktree before its window opens (a failing one undoes the add).
# post_create:
#   - npm install

# How wm merge merges: merge, rebase or squash.
# merge_strategy: merge

# Run agents in a container sandbox.
# sandbox:
#   enabled: true
`;

export const initCommand = defineCommand({
  name: "init",
  summary: "Write a commented .workmux.yaml at the root of the repository you are in",
  description: [
    "Refuses when the file exists (a symbolic link there counts) unless --force, which replaces",
    "it. The file is written without following a symbolic link anywhere under the root.",
  ].join("\n"),
  json: true,
  options: { force: { type: "boolean", short: "f", description: "replace an existing file" } },
  run: async (ctx) => {
    const { repoRoot } = await ctx.daemon((c) => c.call("config.files", { cwd: ctx.cwd }));
    if (!repoRoot) {
      throw new CliError(
        `${ctx.cwd} is not in a git repository`,
        ExitCode.Failure,
        "run wm init inside the repository the file is for",
      );
    }
    const file = path.join(repoRoot, FILE);
    if ((await lstat(file).catch(() => undefined)) && ctx.options.force !== true) {
      throw new CliError(`${file} exists already`, ExitCode.Failure, "wm init --force replaces it");
    }
    try {
      await writeFileUnder(repoRoot, FILE, INIT_TEMPLATE, { mode: 0o644 });
    } catch (err) {
      if (err instanceof PlantedPathError)
        throw new CliError(`${err.message} (${file})`, ExitCode.Refused);
      throw err;
    }
    report(ctx, { path: file }, (r) => `wrote ${r.path}`);
    return ExitCode.Ok;
  },
});
