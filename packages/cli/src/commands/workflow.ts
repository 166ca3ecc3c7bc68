import { addCommand } from "./add.ts";
import { closeCommand } from "./close.ts";
import { lastDoneCommand } from "./last-done.ts";
import { listCommand } from "./list.ts";
import { mergeCommand } from "./merge.ts";
import { openCommand } from "./open.ts";
import { pathCommand } from "./path.ts";
import { rmCommand } from "./rm.ts";
import { runCommand } from "./run.ts";
import { captureCommand, sendCommand } from "./send.ts";
import { setupCommand } from "./setup.ts";
import type { CommandSpec } from "./spec.ts";
import { statusCommand } from "./status.ts";
import { syncFilesCommand } from "./sync-files.ts";
import { waitCommand } from "./wait.ts";

/** The worktree + tmux workflow commands, in the order `wm --help` lists them. */
export const workflowCommands: readonly CommandSpec[] = [
  addCommand,
  listCommand,
  openCommand,
  closeCommand,
  mergeCommand,
  rmCommand,
  statusCommand,
  waitCommand,
  lastDoneCommand,
  pathCommand,
  sendCommand,
  captureCommand,
  runCommand,
  syncFilesCommand,
  setupCommand,
];
