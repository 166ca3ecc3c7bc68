import { existsSync } from "node:fs";
import { type ParsedParams, type Result, RpcError } from "@wm/protocol";
import { selectWindow, withSandboxChoice } from "./select-window.ts";
import type { WorktreeService } from "./service.ts";
import { openEntryWindow } from "./window.ts";

export async function openWorktree(
  svc: WorktreeService,
  params: ParsedParams<"worktree.open">,
): Promise<Result<"worktree.open">> {
  const found = await svc.find(params.cwd, params.name);
  if (!existsSync(found.path)) {
    throw new RpcError(
      "NotFound",
      `the worktree directory ${found.path} is gone; \`wm rm ${found.handle}\` forgets it`,
    );
  }
  const live = await svc.liveWindow(found);
  const entry = withSandboxChoice(found, params.sandbox, live);
  const loaded = await svc.entryConfig(entry);
  // Selecting a live window starts nothing; a misspelt sandbox key is refused all the same.
  await svc.assertAgentStartable(loaded, entry.sandbox && !(live && entry.tmux));
  if (live && entry.tmux) {
    await selectWindow(svc, entry, live, params.tmux);
    return { worktree: await svc.summary(entry), created: false, runs: [] };
  }
  const opened = await openEntryWindow(svc, entry, loaded, {
    client: params.tmux,
    background: false,
    ...(params.sandbox !== undefined ? { ask: "flag" as const } : {}),
  });
  svc.emit("worktree", "opened", opened.entry);
  return { worktree: await svc.summary(opened.entry), created: true, runs: opened.runs };
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
