import path from "node:path";
import type { TmuxClient } from "@wm/protocol";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The tmux server, session and pane this `wm` runs in, for the daemon: from `$TMUX`
 * (`socket,pid,session`) and `$TMUX_PANE`; outside tmux from `WM_TMUX_SOCKET` (a socket path,
 * or a name as for `tmux -L`); else nothing (the daemon uses the default server).
 */
export function tmuxClientFromEnv(env: Env): TmuxClient | undefined {
  const tmux = env.TMUX;
  if (tmux) {
    const fields = tmux.split(",");
    const session = fields.length >= 3 ? fields.at(-1) : undefined;
    const socketPath = fields.slice(0, Math.max(1, fields.length - 2)).join(",");
    const out: TmuxClient = {};
    if (path.isAbsolute(socketPath)) out.socketPath = socketPath;
    if (session && /^\d+$/.test(session)) out.session = `$${session}`;
    if (env.TMUX_PANE && /^%\d+$/.test(env.TMUX_PANE)) out.pane = env.TMUX_PANE;
    return out;
  }
  const chosen = env.WM_TMUX_SOCKET;
  if (!chosen) return undefined;
  return path.isAbsolute(chosen) ? { socketPath: chosen } : { socketName: chosen };
}
