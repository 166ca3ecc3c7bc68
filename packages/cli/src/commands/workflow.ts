import type { LazyCommand } from "./spec.ts";

/** The worktree + tmux workflow commands, in the order `wm --help` lists them. */
export const workflowCommands: readonly LazyCommand[] = [
  { name: "add", load: async () => (await import("./add.ts")).addCommand },
  { name: "list", aliases: ["ls"], load: async () => (await import("./list.ts")).listCommand },
  { name: "open", load: async () => (await import("./open.ts")).openCommand },
  { name: "close", load: async () => (await import("./close.ts")).closeCommand },
  { name: "merge", load: async () => (await import("./merge.ts")).mergeCommand },
  { name: "rm", aliases: ["remove"], load: async () => (await import("./rm.ts")).rmCommand },
  { name: "status", load: async () => (await import("./status.ts")).statusCommand },
  { name: "wait", load: async () => (await import("./wait.ts")).waitCommand },
  { name: "last-done", load: async () => (await import("./last-done.ts")).lastDoneCommand },
  { name: "path", load: async () => (await import("./path.ts")).pathCommand },
  { name: "send", load: async () => (await import("./send.ts")).sendCommand },
  { name: "capture", load: async () => (await import("./send.ts")).captureCommand },
  { name: "run", load: async () => (await import("./run.ts")).runCommand },
  { name: "sync-files", load: async () => (await import("./sync-files.ts")).syncFilesCommand },
  { name: "setup", load: async () => (await import("./setup.ts")).setupCommand },
];
