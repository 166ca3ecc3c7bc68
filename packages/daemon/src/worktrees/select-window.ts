import { RpcError, type TmuxClient } from "@wm/protocol";
import { callerTmux, tmuxAt } from "../tmux/client-target.ts";
import { TmuxError } from "../tmux/tmux-client.ts";
import { focusWindow, type LiveWindow } from "../tmux/windows.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

/**
 * Makes the entry's live window current and brings the caller's client to it; a window on
 * another tmux server is made current there.
 */
export async function selectWindow(
  svc: WorktreeService,
  entry: WorktreeEntry,
  live: LiveWindow,
  client: TmuxClient | undefined,
): Promise<void> {
  if (!entry.tmux) return;
  const caller = await callerTmux(client, svc.daemon.env);
  const sameServer =
    (await caller.tmux.tryRun(["display-message", "-p", "#{socket_path}"])) ===
    entry.tmux.socketPath;
  const target = sameServer
    ? caller
    : {
        tmux: tmuxAt(entry.tmux.socketPath, svc.daemon.env),
        session: undefined,
        window: undefined,
      };
  try {
    await focusWindow(target, entry.mode, live.session, live.window);
  } catch (err) {
    if (!(err instanceof TmuxError)) throw err;
    throw new RpcError(
      "Unavailable",
      `selecting the window of ${entry.handle} failed: ${err.message}`,
    );
  }
}

/**
 * The entry with `sandbox` (`--sandbox` / `--no-sandbox` of `wm open`, `wm add --open-if-exists`)
 * applied, recorded when its window opens; unchanged when `sandbox` is undefined. While the
 * window is open the other way it is refused: its panes already run where they run, and
 * selecting it would not give what was asked.
 */
export function withSandboxChoice(
  entry: WorktreeEntry,
  sandbox: boolean | undefined,
  live: LiveWindow | undefined,
): WorktreeEntry {
  if (sandbox === undefined || sandbox === entry.sandbox) return entry;
  if (live) {
    const now = entry.sandbox ? "in a sandbox" : "on the host";
    throw new RpcError(
      "Conflict",
      `the window of ${entry.handle} is open with its agent ${now}; \`wm close ${entry.handle}\` first, then open it ${sandbox ? "with --sandbox" : "with --no-sandbox"}`,
      { worktree: entry.path, sandbox: entry.sandbox },
    );
  }
  return { ...entry, sandbox };
}
