import { daemonCommand } from "./daemon.ts";
import { defineCommand } from "./spec.ts";
import { workflowCommands } from "./workflow.ts";

/**
 * The command table. Each command's module is imported when the command runs (see
 * `LazyCommand`), so a command pays only for the code it uses. `wm daemon` is the exception:
 * it is part of wm's own start (dist/wm.cjs), since loading a file of its own would cost its
 * one-shot calls (`wm daemon status` from scripts) more than its few KB cost every other
 * command (decision 0026); its heavier subcommands still load when they run.
 */
export const rootCommand = defineCommand({
  name: "wm",
  summary:
    "wm: run coding agents in parallel, each in its own git worktree, tmux window and sandbox",
  subcommands: [
    ...workflowCommands,
    { name: "dashboard", load: async () => (await import("./dashboard.ts")).dashboardCommand },
    { name: "init", load: async () => (await import("./init.ts")).initCommand },
    { name: "sandbox", load: async () => (await import("./sandbox.ts")).sandboxCommand },
    daemonCommand,
    { name: "config", load: async () => (await import("./config.ts")).configCommand },
    { name: "doctor", load: async () => (await import("./doctor.ts")).doctorCommand },
    {
      name: "completions",
      load: async () => (await import("./completions.ts")).completionsCommand,
    },
  ],
});
