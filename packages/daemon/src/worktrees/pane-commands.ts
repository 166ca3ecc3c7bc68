import { RpcError } from "@wm/protocol";
import type { WmConfig } from "../config/index.ts";
import type { PaneLayout } from "../tmux/layout.ts";
import type { WindowSpec } from "../tmux/windows.ts";
import { shellQuote } from "./wm-command.ts";

const PLACEHOLDER = /<agent(?::([^>]+))?>/g;

/** The command line of an agent: a named `agents` entry (command or type, plus args), or the string as given. */
export function agentCommand(config: WmConfig, name: string): string {
  const entry = config.agents[name];
  if (!entry) return name;
  const program = entry.command ?? ("type" in entry ? entry.type : undefined) ?? name;
  const args = "args" in entry && entry.args ? entry.args.map(shellQuote) : [];
  return [program, ...args].join(" ");
}

export interface PaneContext {
  config: WmConfig;
  worktree: string;
  /** Run agent panes (or every pane with `sandbox.target: all`) through `wm sandbox`. */
  sandbox: boolean;
  /** argv of the `wm` CLI. */
  wm: readonly string[];
  /** Agent for `<agent>` instead of the configured one. */
  agent?: string | undefined;
  /** The prompt file (in the worktree's git admin dir), the agent's first argument. */
  promptFile?: string | undefined;
}

function expand(
  command: string,
  config: WmConfig,
  agent: string,
): { line: string; isAgent: boolean } {
  let isAgent = false;
  const line = command.replace(PLACEHOLDER, (_m, named: string | undefined) => {
    isAgent = true;
    if (named !== undefined && !config.agents[named]) {
      throw new RpcError(
        "ConfigInvalid",
        `pane command "${command}" names agent "${named}", which the global agents map does not define`,
      );
    }
    return agentCommand(config, named ?? agent);
  });
  const program = agentCommand(config, agent).split(" ")[0];
  return { line, isAgent: isAgent || line.split(/\s+/)[0] === program };
}

/** What a pane runs and where: the line typed into it, and what the report shows. */
export interface PanePlan {
  /** The line typed into the pane's shell; undefined = a plain shell. */
  line: string | undefined;
  /** The pane's command as configured, agent placeholders expanded; undefined = a shell. */
  runs: string | undefined;
  /** The line runs `wm sandbox run` / `wm sandbox shell`. */
  sandboxed: boolean;
  /** The pane runs the agent (`wm send` types into it, `wm capture` reads it). */
  agent?: boolean;
}

/**
 * The command typed into a pane: `<agent>` / `<agent:name>` substituted, and, when sandboxed,
 * wrapped as `wm sandbox run --worktree <path> -- sh -c '<command>'` (a shell pane with target
 * `all` becomes `wm sandbox shell --worktree <path>`).
 *
 * The whole command line goes to the sandbox as one quoted argument of `sh -c`: every `;`,
 * `&&`, `|`, `$(…)`, redirection, newline or here-document in it is interpreted by the shell
 * inside the sandbox, never by the pane's shell on the host. The agent's prompt argument
 * (`"$(cat <prompt file>)"`) is part of that line, so the prompt file is read inside too (the
 * worktree's git admin dir, where it lies, is mounted at the same path).
 */
export function planPane(command: string | undefined, ctx: PaneContext): PanePlan {
  const wm = ctx.wm.map(shellQuote).join(" ");
  const target = ctx.config.sandbox.target;
  if (!command) {
    return ctx.sandbox && target === "all"
      ? {
          line: `${wm} sandbox shell --worktree ${shellQuote(ctx.worktree)}`,
          runs: undefined,
          sandboxed: true,
        }
      : { line: undefined, runs: undefined, sandboxed: false };
  }
  const expanded = expand(command, ctx.config, ctx.agent ?? ctx.config.agent);
  const isAgent = expanded.isAgent;
  const line =
    isAgent && ctx.promptFile
      ? `${expanded.line} "$(cat ${shellQuote(ctx.promptFile)})"`
      : expanded.line;
  if (!ctx.sandbox || (target !== "all" && !isAgent))
    return { line, runs: expanded.line, sandboxed: false, agent: isAgent };
  return {
    line: sandboxedLine(line, ctx.worktree, ctx.wm),
    runs: expanded.line,
    sandboxed: true,
    agent: isAgent,
  };
}

/** `line` run by `sh -c` in the worktree's sandbox: `wm sandbox run --worktree <path> -- sh -c '<line>'`. */
export function sandboxedLine(line: string, worktree: string, wm: readonly string[]): string {
  return `${wm.map(shellQuote).join(" ")} sandbox run --worktree ${shellQuote(worktree)} -- sh -c ${shellQuote(line)}`;
}

/** The line typed into a pane ({@link planPane}). */
export function paneCommand(command: string | undefined, ctx: PaneContext): string | undefined {
  return planPane(command, ctx).line;
}

const DEFAULT_PANES = [{ command: "<agent>", focus: true }];

/** A pane to lay out, with what it runs and where. */
export type PlannedPane = PaneLayout & { plan: PanePlan };

export interface PlannedWindow extends WindowSpec {
  panes: readonly PlannedPane[];
}

/** The windows to open for a worktree: `panes` in window mode; `windows` (or `panes`) in session mode. */
export function windowSpecs(ctx: PaneContext, mode: "window" | "session"): PlannedWindow[] {
  const { config } = ctx;
  const withCommands = (panes: readonly PaneLayout[]) =>
    panes.map((p) => {
      const plan = planPane(p.command, ctx);
      return { ...p, command: plan.line, plan };
    });
  const windows = config.windows?.map((w) => ({ name: w.name, panes: w.panes ?? [{}] }));
  const panes = config.panes ?? windows?.[0]?.panes ?? DEFAULT_PANES;
  if (mode === "window" || !windows) return [{ panes: withCommands(panes) }];
  return windows.map((w) => ({ name: w.name, panes: withCommands(w.panes) }));
}
