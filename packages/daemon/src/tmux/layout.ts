import type { Tmux } from "./tmux-client.ts";

export interface PaneLayout {
  /** A shell command line typed into the pane's shell; none = a plain shell. */
  command?: string | undefined;
  focus?: boolean | undefined;
  zoom?: boolean | undefined;
  split?: "horizontal" | "vertical" | "stacked" | undefined;
  size?: number | undefined;
  percentage?: number | undefined;
  target?: number | undefined;
}

function splitArgs(pane: PaneLayout, target: string, cwd: string): string[] {
  const args = ["split-window", "-d", "-t", target, pane.split === "horizontal" ? "-h" : "-v"];
  if (pane.size !== undefined) args.push("-l", String(pane.size));
  else if (pane.percentage !== undefined) args.push("-l", `${pane.percentage}%`);
  args.push("-c", cwd, "-P", "-F", "#{pane_id}");
  return args;
}

/** Types `command` into a pane's shell, so the pane keeps its shell when the command ends. */
export async function typeCommand(tmux: Tmux, pane: string, command: string): Promise<void> {
  await tmux.run(["send-keys", "-t", pane, "-l", command]);
  await tmux.run(["send-keys", "-t", pane, "Enter"]);
}

/**
 * Lays `panes` out in the window whose first pane is `firstPane` (the config's pane rules are
 * already checked): each later pane splits its `target` (default: the previous pane)
 * horizontally (side by side) or vertically; then commands run, focus and zoom apply.
 * Returns the pane ids in config order.
 */
export async function applyPanes(
  tmux: Tmux,
  firstPane: string,
  panes: readonly PaneLayout[],
  cwd: string,
): Promise<string[]> {
  const ids = [firstPane];
  for (let i = 1; i < panes.length; i++) {
    const pane = panes[i] as PaneLayout;
    const target = ids[pane.target ?? i - 1] ?? (ids.at(-1) as string);
    ids.push(await tmux.run(splitArgs(pane, target, cwd)));
  }
  for (const [i, pane] of panes.entries()) {
    if (pane.command) await typeCommand(tmux, ids[i] as string, pane.command);
  }
  const zoomed = panes.findIndex((p) => p.zoom === true);
  let focused = zoomed;
  if (focused < 0) focused = panes.findLastIndex((p) => p.focus === true);
  await tmux.run(["select-pane", "-t", ids[Math.max(focused, 0)] as string]);
  if (zoomed >= 0) await tmux.run(["resize-pane", "-Z", "-t", ids[zoomed] as string]);
  return ids;
}
