import { completionsCommand } from "./completions.ts";
import { configCommand } from "./config.ts";
import { daemonCommand } from "./daemon.ts";
import { dashboardCommand } from "./dashboard.ts";
import { doctorCommand } from "./doctor.ts";
import { initCommand } from "./init.ts";
import { sandboxCommand } from "./sandbox.ts";
import { defineCommand } from "./spec.ts";
import { workflowCommands } from "./workflow.ts";

export const rootCommand = defineCommand({
  name: "wm",
  summary:
    "wm: run coding agents in parallel, each in its own git worktree, tmux window and sandbox",
  subcommands: [sandboxCommand, daemonCommand, configCommand, doctorCommand, completionsCommand],
});
Object.assign(rootCommand, {
  subcommands: [
    ...workflowCommands,
    dashboardCommand,
    initCommand,
    ...(rootCommand.subcommands ?? []),
  ],
});
