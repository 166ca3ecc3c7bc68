import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import {
  CLAUDE_STATUS_HOOKS,
  mergeClaudeSettings,
  SettingsShapeError,
} from "../worktree/claude-settings.ts";
import { defineCommand } from "./spec.ts";

async function repoRoot(start: string): Promise<string | undefined> {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (await fs.lstat(path.join(dir, ".git")).catch(() => undefined)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const claude = defineCommand({
  name: "claude",
  summary: "Make Claude Code report its status to wm (hooks in .claude/settings.json)",
  description: [
    "Adds hooks to the repository's .claude/settings.json (or ~/.claude/settings.json with",
    "--global), keeping everything already there:",
    ...CLAUDE_STATUS_HOOKS.map(([event, command]) => `  ${event.padEnd(17)} ${command}`),
    "The same hooks work inside a sandbox, where `wm` is the sandbox's own and reports to the host.",
  ].join("\n"),
  json: true,
  options: { global: { type: "boolean", description: "write ~/.claude/settings.json instead" } },
  run: async (ctx) => {
    let file: string;
    let root: string | undefined;
    if (ctx.options.global) {
      file = path.join(ctx.env.HOME || os.homedir(), ".claude", "settings.json");
    } else {
      root = await repoRoot(ctx.cwd);
      if (!root)
        throw new UsageError(
          `${ctx.cwd} is not inside a git repository`,
          "run it in the repository, or pass --global",
        );
      file = path.join(root, ".claude", "settings.json");
    }
    try {
      const res = await mergeClaudeSettings(file, root);
      report(ctx, res, (r) =>
        r.added.length > 0
          ? `added ${r.added.join(", ")} hooks to ${r.file}`
          : `${r.file} already has the wm hooks`,
      );
      return ExitCode.Ok;
    } catch (err) {
      if (err instanceof SettingsShapeError) throw new CliError(err.message, ExitCode.Failure);
      throw err;
    }
  },
});

export const setupCommand = defineCommand({
  name: "setup",
  summary: "Connect an agent to wm's status tracking",
  subcommands: [claude],
});
