import { RpcError } from "@wm/protocol";
import { unsafeTextProblem } from "@wm/protocol/text";
import { tmuxAt } from "../tmux/client-target.ts";
import { typeCommand } from "../tmux/layout.ts";
import { sandboxedLine } from "./pane-commands.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import { shellQuote, wmInvocation } from "./wm-command.ts";

/**
 * Splits the worktree's window and types `argv` (shell-quoted) into the new pane's shell; wrapped
 * in `wm sandbox run --worktree <path>` when the worktree's agent is sandboxed, so the command
 * never runs less isolated than the agent.
 */
export async function runInPane(
  svc: WorktreeService,
  entry: WorktreeEntry,
  argv: readonly string[],
): Promise<{ pane: string; sandboxed: boolean; line: string }> {
  for (const [i, arg] of argv.entries()) {
    const problem = unsafeTextProblem(arg);
    if (problem)
      throw new RpcError(
        "InvalidParams",
        `argument ${i + 1} of the command cannot be typed into a pane: ${problem}`,
      );
  }
  const live = await svc.liveWindow(entry);
  if (!live || !entry.tmux) {
    throw new RpcError(
      "NotFound",
      `${entry.handle} has no window open; \`wm open ${entry.handle}\` opens it`,
      { worktree: entry.path },
    );
  }
  const command = argv.map(shellQuote).join(" ");
  const sandboxed = entry.sandbox;
  const line = sandboxed
    ? sandboxedLine(command, entry.path, wmInvocation(svc.daemon.env))
    : command;
  const tmux = tmuxAt(entry.tmux.socketPath, svc.daemon.env);
  const pane = (
    await tmux.run([
      "split-window",
      "-d",
      "-t",
      live.window,
      "-c",
      entry.path,
      "-P",
      "-F",
      "#{pane_id}",
    ])
  ).trim();
  await typeCommand(tmux, pane, line);
  return { pane, sandboxed, line };
}
