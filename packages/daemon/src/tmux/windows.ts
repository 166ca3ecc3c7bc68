import type { CallerTmux } from "./client-target.ts";
import { sessionFor, socketPathOf } from "./client-target.ts";
import { applyPanes, type PaneLayout } from "./layout.ts";
import { literalName, type Tmux } from "./tmux-client.ts";

export interface WindowSpec {
  name?: string | undefined;
  panes: readonly PaneLayout[];
}

export interface OpenRequest {
  caller: CallerTmux;
  mode: "window" | "session";
  /** Window name (window mode) or session name (session mode): `<window_prefix><handle>`. */
  title: string;
  cwd: string;
  /** Window mode: one window. Session mode: the session's windows, the first is the agent's. */
  windows: readonly WindowSpec[];
  placement: "after_current" | "rightmost";
  background: boolean;
}

export interface OpenedWindow {
  socketPath: string;
  session: string;
  /** The agent's window (the session's first in session mode). */
  window: string;
  /** The title that window carries (without a status icon). */
  windowTitle: string;
  panes: string[];
}

const IDS = "#{session_id} #{window_id} #{pane_id}";

async function newWindow(tmux: Tmux, target: string[], name: string, cwd: string) {
  const out = await tmux.run([
    "new-window",
    "-d",
    ...target,
    "-n",
    literalName(name),
    "-c",
    cwd,
    "-P",
    "-F",
    IDS,
  ]);
  const [session, window, pane] = out.split(" ") as [string, string, string];
  return { session, window, pane };
}

/** Points the client watching the caller's session (most recently active first) at `target`. */
async function switchCaller(caller: CallerTmux, target: string): Promise<void> {
  if (!caller.session) return;
  const clients = await caller.tmux.tryRun([
    "list-clients",
    "-F",
    "#{client_activity} #{session_id} #{client_name}",
  ]);
  const mine = (clients ?? "")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f[1] === caller.session && f[2])
    .sort((a, b) => Number(b[0]) - Number(a[0]));
  const client = mine[0]?.slice(2).join(" ");
  if (client) await caller.tmux.tryRun(["switch-client", "-c", client, "-t", target]);
}

/** Creates the worktree's window (window mode) or session (session mode) and lays out its panes. */
export async function openWindow(req: OpenRequest): Promise<OpenedWindow> {
  const { caller, cwd } = req;
  const tmux = caller.tmux;
  const [first, ...rest] = req.windows;
  if (!first) throw new Error("no window to open");
  let opened: { session: string; window: string; pane: string };
  let windowTitle = req.title;
  if (req.mode === "window") {
    const session = await sessionFor(caller, cwd);
    const target =
      req.placement === "after_current" && caller.window
        ? ["-a", "-t", caller.window]
        : ["-t", `${session}:`];
    opened = await newWindow(tmux, target, req.title, cwd);
  } else {
    const out = await tmux.run([
      "new-session",
      "-d",
      "-s",
      literalName(req.title),
      "-c",
      cwd,
      "-P",
      "-F",
      IDS,
    ]);
    const [session, window, pane] = out.split(" ") as [string, string, string];
    opened = { session, window, pane };
    windowTitle = first.name ?? req.title;
    await tmux.run(["rename-window", "-t", window, literalName(windowTitle)]);
  }
  const panes = await applyPanes(tmux, opened.pane, first.panes, cwd);
  for (const spec of rest) {
    const extra = await newWindow(tmux, ["-t", `${opened.session}:`], spec.name ?? req.title, cwd);
    panes.push(...(await applyPanes(tmux, extra.pane, spec.panes, cwd)));
  }
  if (!req.background) await focusWindow(caller, req.mode, opened.session, opened.window);
  return { socketPath: await socketPathOf(tmux), ...opened, windowTitle, panes };
}

/** Makes `window` current in its session and brings the caller's client to it. */
export async function focusWindow(
  caller: CallerTmux,
  mode: "window" | "session",
  session: string,
  window: string,
) {
  await caller.tmux.run(["select-window", "-t", window]);
  if (mode === "session" || (caller.session && caller.session !== session)) {
    await switchCaller(caller, mode === "session" ? session : window);
  }
}

export interface LiveWindow {
  window: string;
  session: string;
  name: string;
}

/** The window if it still exists and is still the one wm made for `worktree`. */
export async function findWindow(
  tmux: Tmux,
  window: string,
  worktree: string,
): Promise<LiveWindow | undefined> {
  const out = await tmux.tryRun([
    "display-message",
    "-p",
    "-t",
    window,
    "#{window_id}\t#{session_id}\t#{@wm_worktree}\t#{window_name}",
  ]);
  const [id, session, owner, name] = out?.split("\t") ?? [];
  if (id !== window || owner !== worktree || !session) return undefined;
  return { window: id, session, name: name ?? "" };
}

/** Kills the window (window mode) or the whole session (session mode). */
export async function killWindow(tmux: Tmux, mode: "window" | "session", live: LiveWindow) {
  await tmux.tryRun(
    mode === "session" ? ["kill-session", "-t", live.session] : ["kill-window", "-t", live.window],
  );
}
