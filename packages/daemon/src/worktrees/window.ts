import path from "node:path";
import { type AgentStatus, type PaneRun, RpcError, type TmuxClient } from "@wm/protocol";
import type { LoadedConfig, WmConfig } from "../config/index.ts";
import { callerTmux } from "../tmux/client-target.ts";
import { installFocusHook, markWindow, showStatus } from "../tmux/status-display.ts";
import type { Tmux } from "../tmux/tmux-client.ts";
import { TmuxError } from "../tmux/tmux-client.ts";
import { openWindow } from "../tmux/windows.ts";
import { withLayout } from "./add-options.ts";
import { markAgentPanes } from "./agent-pane.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import { paneRuns, planWindow, type SandboxAsk, tmuxMissingError } from "./window-checks.ts";
import { windowDir } from "./window-dir.ts";
import { focusClearCommand, wmInvocation } from "./wm-command.ts";

/** `<window_prefix><handle>`; the prefix may name the project as `{project}`. */
export function windowTitle(config: WmConfig, entry: WorktreeEntry): string {
  return `${config.window_prefix.replaceAll("{project}", path.basename(entry.repo))}${entry.handle}`;
}

export function iconFor(config: WmConfig, status: AgentStatus | null): string | null {
  return status ? config.status_icons[status] : null;
}

/** Sets the status look on a window wm made; the window title comes from the record. */
export async function showEntryStatus(tmux: Tmux, entry: WorktreeEntry, config: WmConfig) {
  if (!entry.tmux) return;
  await showStatus(tmux, entry.tmux.window, {
    status: entry.status,
    icon: iconFor(config, entry.status),
    title: entry.tmux.title,
  });
}

/**
 * Opens the worktree's window (or session) in the caller's tmux, lays out its panes, tags it,
 * restores its status and installs the focus hook; records where it is. Checks first (tmux,
 * a sandboxed pane when the entry is sandboxed, its image): a failed check opens nothing.
 */
export async function openEntryWindow(
  svc: WorktreeService,
  entry: WorktreeEntry,
  loaded: LoadedConfig,
  opts: {
    client: TmuxClient | undefined;
    background: boolean;
    promptFile?: string | undefined;
    /** Who asked for the entry's sandbox, for the error when no pane can have one. */
    ask?: SandboxAsk | undefined;
  },
): Promise<{ entry: WorktreeEntry; panes: string[]; runs: PaneRun[] }> {
  const { env, paths } = svc.daemon;
  const wm = wmInvocation(env);
  const outcome = `no window was opened; the worktree is at ${entry.path}`;
  // The layout chosen at `wm add --layout` lays the window out every time it opens.
  loaded = withLayout(
    loaded,
    entry.layout,
    `${outcome} (its layout was chosen with wm add --layout)`,
  );
  const config = loaded.config;
  const plan = await planWindow(svc.daemon, {
    loaded,
    mode: entry.mode,
    worktree: entry.path,
    sandbox: entry.sandbox,
    wm,
    agent: entry.agent,
    promptFile: opts.promptFile,
    ask: opts.ask ?? "record",
    outcome,
  });
  try {
    const caller = await callerTmux(opts.client, env);
    const title = windowTitle(config, entry);
    const opened = await openWindow({
      caller,
      mode: entry.mode,
      title,
      cwd: await windowDir(entry),
      windows: plan.windows,
      placement: config.window_placement ?? "after_current",
      background: opts.background,
    });
    const tmuxRecord = {
      socketPath: opened.socketPath,
      session: opened.session,
      window: opened.window,
      title: opened.windowTitle,
    };
    await markWindow(caller.tmux, opened.window, {
      worktree: entry.path,
      handle: entry.handle,
      title: opened.windowTitle,
      statusFormat: config.status_format,
    });
    await markAgentPanes(caller.tmux, plan, opened.panes);
    // A worktree wm did not make is stored now; the sandbox choice is the one its panes got.
    await svc.adopt(entry);
    const updated =
      (await svc.state.update(entry.path, () => ({ tmux: tmuxRecord, sandbox: entry.sandbox }))) ??
      entry;
    if (updated.status) await showEntryStatus(caller.tmux, updated, config);
    const hook = focusClearCommand(env, paths.runtimeDir);
    if (hook) await installFocusHook(caller.tmux, opened.session, hook);
    else
      svc.daemon.log.warn(
        { runtimeDir: paths.runtimeDir },
        "paths need quoting; focus hook not installed",
      );
    return { entry: updated, panes: opened.panes, runs: paneRuns(plan, opened.panes) };
  } catch (err) {
    if (!(err instanceof TmuxError)) throw err;
    if (err.missing) throw tmuxMissingError(svc.daemon, outcome);
    throw new RpcError(
      "Unavailable",
      `the tmux window for ${entry.handle} could not be opened: ${err.message}; the worktree is at ${entry.path} — run \`wm open ${entry.handle}\` once tmux works`,
      { worktree: entry.path },
    );
  }
}
