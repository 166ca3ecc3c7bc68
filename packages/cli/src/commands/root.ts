import { defineCommand } from "./spec.ts";
import { workflowCommands } from "./workflow.ts";

/**
 * The command table. Each command's module is imported when the command runs (see
 * `LazyCommand`), so a command pays only for the code it uses.
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
    { name: "daemon", load: async () => (await import("./daemon.ts")).daemonCommand },
    { name: "config", load: async () => (await import("./config.ts")).configCommand },
    { name: "doctor", load: async () => (await import("./doctor.ts")).doctorCommand },
    {
      name: "completions",
      load: async () => (await import("./completions.ts")).completionsCommand,
    },
  ],
});
