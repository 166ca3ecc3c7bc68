import type { TmuxClient } from "@wm/protocol";
import { createTmux, type Tmux, type TmuxServer } from "./tmux-client.ts";

/** Session wm creates on a server when the caller is not inside tmux. */
export const DEFAULT_SESSION = "wm";

export interface CallerTmux {
  tmux: Tmux;
  /** The caller's session id (`$N`), when it runs inside tmux. */
  session: string | undefined;
  /** The caller's window id (`@N`), when it runs in a known pane. */
  window: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

export function serverOf(client: TmuxClient | undefined): TmuxServer {
  if (client?.socketPath) return { socketPath: client.socketPath };
  return { socketName: client?.socketName ?? "default" };
}

/** The tmux server, session and window the calling `wm` runs in. */
export async function callerTmux(client: TmuxClient | undefined, env: Env): Promise<CallerTmux> {
  const tmux = createTmux(serverOf(client), { env });
  if (client?.pane) {
    const out = await tmux.tryRun([
      "display-message",
      "-p",
      "-t",
      client.pane,
      "#{session_id} #{window_id}",
    ]);
    const [session, window] = out?.split(" ") ?? [];
    if (session && window) return { tmux, session, window };
  }
  if (client?.session) {
    const found = await tmux.tryRun([
      "display-message",
      "-p",
      "-t",
      client.session,
      "#{session_id}",
    ]);
    if (found === client.session) return { tmux, session: found, window: undefined };
  }
  return { tmux, session: undefined, window: undefined };
}

/** The socket path of a running server (names are resolved once, then paths are used). */
export async function socketPathOf(tmux: Tmux): Promise<string> {
  return tmux.run(["display-message", "-p", "#{socket_path}"]);
}

/** A tmux client bound to a recorded socket path. */
export function tmuxAt(socketPath: string, env: Env): Tmux {
  return createTmux({ socketPath }, { env });
}

/**
 * The session to put a new window in: the caller's, else an existing `wm` session on that
 * server, else a new detached one (which starts the server when none runs).
 */
export async function sessionFor(caller: CallerTmux, cwd: string): Promise<string> {
  if (caller.session) return caller.session;
  const existing = await caller.tmux.tryRun([
    "display-message",
    "-p",
    "-t",
    `=${DEFAULT_SESSION}:`,
    "#{session_id}",
  ]);
  if (existing) return existing;
  return caller.tmux.run([
    "new-session",
    "-d",
    "-s",
    DEFAULT_SESSION,
    "-c",
    cwd,
    "-P",
    "-F",
    "#{session_id}",
  ]);
}
