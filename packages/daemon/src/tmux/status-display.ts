import { type AgentStatus, displaySafe } from "@wm/protocol";
import { literalName, type Tmux } from "./tmux-client.ts";

/** The tmux default window-status format, with the name wm gave the window and its styled icon. */
export const WINDOW_STATUS_FORMAT =
  "#I:#{@wm_title}#{?@wm_status_icon, #{@wm_status_icon}#[default],}#{?window_flags,#{window_flags}, }";

/** `status_icons` may carry tmux styles (`#[fg=yellow]🤖`); window names get the icon alone. */
export function plainIcon(icon: string): string {
  return icon.replace(/#\[[^\]]*\]/g, "").trim();
}

export interface WindowMarks {
  worktree: string;
  handle: string;
  /** The window name without an icon: `<window_prefix><handle>`. */
  title: string;
  statusFormat: boolean;
}

/** Tags a window as wm's (so a reused window id is never mistaken for it) and sets its format. */
export async function markWindow(tmux: Tmux, window: string, marks: WindowMarks): Promise<void> {
  const set = (name: string, value: string) =>
    tmux.run(["set-option", "-w", "-t", window, name, value]);
  await set("@wm_worktree", marks.worktree);
  await set("@wm_handle", marks.handle);
  await set("@wm_title", displaySafe(marks.title));
  if (marks.statusFormat) {
    await set("window-status-format", WINDOW_STATUS_FORMAT);
    await set("window-status-current-format", WINDOW_STATUS_FORMAT);
  }
}

export interface StatusLook {
  status: AgentStatus | null;
  /** The configured icon for `status` (may hold tmux styles); null when cleared. */
  icon: string | null;
  title: string;
}

/** Shows a status on a window: `@wm_status`, `@wm_status_icon`, and the icon in its name. */
export async function showStatus(tmux: Tmux, window: string, look: StatusLook): Promise<void> {
  const option = (name: string, value: string | null) =>
    tmux.run(
      value === null
        ? ["set-option", "-w", "-u", "-t", window, name]
        : ["set-option", "-w", "-t", window, name, value],
    );
  await option("@wm_status", look.status);
  await option("@wm_status_icon", look.icon);
  const icon = look.icon ? plainIcon(look.icon) : "";
  await tmux.run([
    "rename-window",
    "-t",
    window,
    literalName(icon ? `${look.title} ${icon}` : look.title),
  ]);
}

/** Index in the hook arrays that wm owns, so installing again replaces instead of adding. */
export const HOOK_INDEX = 71;

const CLEARABLE = "#{||:#{==:#{@wm_status},waiting},#{==:#{@wm_status},done}}";

/**
 * Clears waiting/done when a window gets focus: on the session's `session-window-changed`
 * (another window selected) and `client-session-changed` (a client switched to this session),
 * if the newly current window shows waiting or done, tmux runs `shellCommand` in the
 * background with `#{window_id}` expanded. `shellCommand` must not hold a single quote.
 */
export async function installFocusHook(tmux: Tmux, session: string, shellCommand: string) {
  if (shellCommand.includes("'")) throw new Error("focus hook command holds a single quote");
  const body = `if-shell -F '${CLEARABLE}' { run-shell -b '${shellCommand}' }`;
  for (const hook of ["session-window-changed", "client-session-changed"]) {
    await tmux.run(["set-hook", "-t", session, `${hook}[${HOOK_INDEX}]`, body]);
  }
}
