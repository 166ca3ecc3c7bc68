import { type PaneRun, RpcError } from "@wm/protocol";
import { EngineError } from "../backends/docker/engine-error.ts";
import type { SandboxRuntime } from "../backends/sandbox-backend.ts";
import type { LoadedConfig } from "../config/index.ts";
import type { DaemonContext } from "../context.ts";
import { installHint } from "../doctor/run-version.ts";
import { sandboxTarget } from "../sandbox/vm-launch.ts";
import { tmuxMissing } from "../tmux/tmux-client.ts";
import { type PaneContext, type PlannedWindow, windowSpecs } from "./pane-commands.ts";

/** Who asked for the sandbox: `wm add --sandbox`, `sandbox.enabled`, or the worktree's record. */
export type SandboxAsk = "flag" | "config" | "record";

export interface WindowPlan {
  windows: PlannedWindow[];
  /** The engine (or `vm`) the sandboxed panes run on; undefined when no pane is sandboxed. */
  runtime: SandboxRuntime | undefined;
}

export interface PlanInput extends Omit<PaneContext, "config"> {
  loaded: LoadedConfig;
  mode: "window" | "session";
  ask: SandboxAsk;
  /** How the error ends: what was left undone ("nothing was created"). */
  outcome: string;
}

/** tmux not found where the daemon looks for it: what to install, or how to give it a PATH. */
export function tmuxMissingError(daemon: DaemonContext, outcome: string): RpcError {
  const install = installHint({ platform: process.platform, uid: process.getuid?.() ?? 0 }, [
    "tmux",
  ]);
  const hint = `install tmux: ${install}; if it is installed, restart the daemon from a shell where \`tmux -V\` works: \`wm daemon restart\` (\`wm daemon install-service\` again for a daemon your service manager starts)`;
  return new RpcError(
    "Unavailable",
    `tmux is not on the daemon's PATH (${daemon.env.PATH ?? "unset"}); ${outcome}`,
    { hint },
  );
}

function sourceOf(loaded: LoadedConfig, key: string): string {
  const file =
    loaded.sources[key] ??
    Object.entries(loaded.sources).find(([k]) => k.startsWith(`${key}.`))?.[1];
  return !file || file === "default" ? "the default" : file;
}

function askText(loaded: LoadedConfig, ask: SandboxAsk): string {
  if (ask === "flag") return "--sandbox was given";
  if (ask === "config") return `sandbox.enabled is true (${sourceOf(loaded, "sandbox.enabled")})`;
  return "this worktree was added sandboxed";
}

/** Sandboxing was asked for and no pane would get it: fail closed, naming the config. */
function noSandboxedPane(input: PlanInput): RpcError {
  const { loaded } = input;
  const { config } = loaded;
  const key = config.panes || !config.windows ? "panes" : "windows";
  const target = `sandbox.target is "${config.sandbox.target}" (${sourceOf(loaded, "sandbox.target")})`;
  const agent = input.agent ?? config.agent;
  const why =
    config.sandbox.target === "agent"
      ? `${target} and no pane in ${key} (${sourceOf(loaded, key)}) runs the agent "${agent}"`
      : `${key} (${sourceOf(loaded, key)}) has no pane`;
  const undo =
    input.ask === "flag"
      ? ", or leave out --sandbox"
      : input.ask === "config"
        ? ", or set sandbox.enabled: false"
        : "";
  return new RpcError(
    "Refused",
    `${askText(loaded, input.ask)}, but no pane would run in a sandbox: ${why}; ${input.outcome}`,
    { hint: `add a pane whose command is "<agent>" to ${key}, or set sandbox.target: all${undo}` },
  );
}

/** The sandbox image the panes' `wm sandbox run` will use, checked before any window opens. */
async function checkImage(daemon: DaemonContext, input: PlanInput): Promise<SandboxRuntime> {
  const { config } = input.loaded;
  const { runtime, image } = sandboxTarget(config);
  try {
    await daemon.sandboxes.backend(runtime).requireImage(image);
  } catch (err) {
    if (err instanceof RpcError)
      throw new RpcError("Unavailable", `${err.message}; ${input.outcome}`, err.data);
    if (err instanceof EngineError)
      throw new RpcError("Unavailable", `${err.message}; ${input.outcome}`, {
        hint: "run `wm doctor` to see what the container engine needs",
      });
    throw err;
  }
  return runtime;
}

/**
 * The panes a worktree's window will have, checked before anything is made: tmux runs where
 * the daemon looks for it; when sandboxing is asked for, at least one pane is sandboxed
 * (never fewer isolated than asked: none at all is an error naming the config) and its image
 * exists and is current.
 */
export async function planWindow(daemon: DaemonContext, input: PlanInput): Promise<WindowPlan> {
  if (await tmuxMissing(daemon.env)) throw tmuxMissingError(daemon, input.outcome);
  const windows = windowSpecs({ ...input, config: input.loaded.config }, input.mode);
  const panes = windows.flatMap((w) => w.panes);
  const sandboxed = panes.some((p) => p.plan.sandboxed);
  if (input.sandbox && !sandboxed) throw noSandboxedPane(input);
  const runtime = sandboxed ? await checkImage(daemon, input) : undefined;
  return { windows, runtime };
}

/** What each opened pane runs and where, in the order `openWindow` returned their ids. */
export function paneRuns(plan: WindowPlan, ids: readonly string[]): PaneRun[] {
  return plan.windows
    .flatMap((w) => w.panes)
    .map((p, i) => ({
      pane: ids[i] ?? "",
      command: p.plan.runs ?? null,
      where: p.plan.sandboxed ? "sandbox" : "host",
      backend: p.plan.sandboxed ? (plan.runtime ?? null) : null,
    }));
}
