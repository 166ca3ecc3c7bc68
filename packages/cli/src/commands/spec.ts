import type { WmPaths } from "@wm/protocol";
import type { RpcClient } from "../client/rpc-client.ts";

export interface OptionSpec {
  type: "boolean" | "string";
  short?: string;
  description: string;
  /** Shown in help as `--name VALUE`. */
  valueName?: string;
  /** Values offered by shell completion. */
  choices?: readonly string[];
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
  choices?: readonly string[];
  /** Takes every remaining argument (only the last one may). */
  variadic?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface CommandContext {
  args: string[];
  options: Record<string, string | boolean | undefined>;
  json: boolean;
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
  paths(): WmPaths;
  /** Run `fn` with a client of the daemon, starting the daemon when none runs. */
  daemon<T>(fn: (client: RpcClient) => Promise<T>, opts?: { autoStart?: boolean }): Promise<T>;
}

export interface CommandSpec {
  name: string;
  /** Other names the command answers to (`ls` for `list`); help and completions show them. */
  aliases?: readonly string[];
  summary: string;
  /** Longer text shown under the usage line in `--help`. */
  description?: string;
  args?: readonly ArgSpec[];
  options?: Readonly<Record<string, OptionSpec>>;
  /** The command reports something and accepts `--json`. */
  json?: boolean;
  subcommands?: readonly CommandEntry[];
  /** Returns the exit code. */
  run?: (ctx: CommandContext) => Promise<number>;
}

/**
 * A command named in its parent's table whose module is imported only when it is run, or its
 * help or a completion script is printed: `wm daemon status` compiles the daemon commands and
 * nothing of the dashboard, worktree or sandbox commands.
 */
export interface LazyCommand {
  name: string;
  aliases?: readonly string[];
  load(): Promise<CommandSpec>;
}

export type CommandEntry = CommandSpec | LazyCommand;

/** A command with every subcommand loaded, all the way down (completions and tests walk it). */
export interface CommandTree extends Omit<CommandSpec, "subcommands"> {
  subcommands?: readonly CommandTree[];
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}

export function loadCommand(entry: CommandEntry): Promise<CommandSpec> {
  return "load" in entry ? entry.load() : Promise.resolve(entry);
}

export async function loadCommandTree(entry: CommandEntry): Promise<CommandTree> {
  const { subcommands, ...spec } = await loadCommand(entry);
  if (!subcommands) return spec;
  return { ...spec, subcommands: await Promise.all(subcommands.map(loadCommandTree)) };
}
