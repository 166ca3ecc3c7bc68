import path from "node:path";
import { type AgentStatus, RpcError, type TmuxClient } from "@wm/protocol";
import type { WmConfig } from "../config/index.ts";
import { callerTmux } from "../tmux/client-target.ts";
import { installFocusHook, markWindow, showStatus } from "../tmux/status-display.ts";
import type { Tmux } from "../tmux/tmux-client.ts";
import { TmuxError } from "../tmux/tmux-client.ts";
import { openWindow } from "../tmux/windows.ts";
import { windowSpecs } from "./pane-commands.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
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
 * restores its status and installs the focus hook; records where it is.
 */
export async function openEntryWindow(
  svc: WorktreeService,
  entry: WorktreeEntry,
  config: WmConfig,
  opts: { client: TmuxClient | undefined; background: boolean; promptFile?: string | undefined },
): Promise<{ entry: WorktreeEntry; panes: string[] }> {
  const { env, paths } = svc.daemon;
  const wm = wmInvocation(env);
  try {
    const caller = await callerTmux(opts.client, env);
    const title = windowTitle(config, entry);
    const opened = await openWindow({
      caller,
      mode: entry.mode,
      title,
      cwd: entry.path,
      windows: windowSpecs(
        {
          config,
          worktree: entry.path,
          sandbox: entry.sandbox,
          wm,
          agent: entry.agent,
          promptFile: opts.promptFile,
        },
        entry.mode,
      ),
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
    const updated = (await svc.state.update(entry.path, () => ({ tmux: tmuxRecord }))) ?? entry;
    if (updated.status) await showEntryStatus(caller.tmux, updated, config);
    const hook = focusClearCommand(env, paths.runtimeDir);
    if (hook) await installFocusHook(caller.tmux, opened.session, hook);
    else
      svc.daemon.log.warn(
        { runtimeDir: paths.runtimeDir },
        "paths need quoting; focus hook not installed",
      );
    return { entry: updated, panes: opened.panes };
  } catch (err) {
    if (!(err instanceof TmuxError)) throw err;
    throw new RpcError(
      "Unavailable",
      `the tmux window for ${entry.handle} could not be opened: ${err.message}; the worktree is at ${entry.path} — run \`wm open ${entry.handle}\` once tmux works`,
      { worktree: entry.path },
    );
  }
}
