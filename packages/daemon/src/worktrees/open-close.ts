import { existsSync } from "node:fs";
import { type ParsedParams, type Result, RpcError } from "@wm/protocol";
import { callerTmux, tmuxAt } from "../tmux/client-target.ts";
import { TmuxError } from "../tmux/tmux-client.ts";
import { focusWindow } from "../tmux/windows.ts";
import type { WorktreeService } from "./service.ts";
import { openEntryWindow } from "./window.ts";

export async function openWorktree(
  svc: WorktreeService,
  params: ParsedParams<"worktree.open">,
): Promise<Result<"worktree.open">> {
  const entry = await svc.find(params.cwd, params.name);
  if (!existsSync(entry.path)) {
    throw new RpcError(
      "NotFound",
      `the worktree directory ${entry.path} is gone; \`wm rm ${entry.handle}\` forgets it`,
    );
  }
  const live = await svc.liveWindow(entry);
  if (live && entry.tmux) {
    const caller = await callerTmux(params.tmux, svc.daemon.env);
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
    return { worktree: await svc.summary(entry), created: false };
  }
  const config = await svc.config({ root: entry.repo, commonDir: entry.commonDir });
  const opened = await openEntryWindow(svc, entry, config, {
    client: params.tmux,
    background: false,
  });
  svc.emit("worktree", "opened", opened.entry);
  return { worktree: await svc.summary(opened.entry), created: true };
}

export async function closeWorktree(
  svc: WorktreeService,
  params: ParsedParams<"worktree.close">,
): Promise<Result<"worktree.close">> {
  const entry = await svc.find(params.cwd, params.name);
  const closed = await svc.killWindow(entry);
  // Closing the window ends its panes' clients; the sandboxes they ran in end with them.
  await svc.daemon.sandboxes.stopWorktree(entry.path);
  const updated = (await svc.state.update(entry.path, () => ({ tmux: null }))) ?? entry;
  if (closed) svc.emit("worktree", "closed", updated);
  return { worktree: await svc.summary(updated), closed };
}
