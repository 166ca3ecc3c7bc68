import { realpath } from "node:fs/promises";
import { type AgentStatus, type ParsedParams, type Result, RpcError } from "@wm/protocol";
import { callerTmux, socketPathOf, tmuxAt } from "../tmux/client-target.ts";
import { showStatus } from "../tmux/status-display.ts";
import type { Tmux } from "../tmux/tmux-client.ts";
import { isInside } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import { iconFor, showEntryStatus } from "./window.ts";

type SetParams = ParsedParams<"worktree.statusSet">;

/** The window a call names: `window` on the caller's server, or the window of its pane. */
async function callerWindow(svc: WorktreeService, params: SetParams) {
  if (!params.window && !params.tmux?.pane) return undefined;
  const caller = await callerTmux(params.tmux, svc.daemon.env);
  const window = params.window ?? caller.window;
  if (!window) return undefined;
  const owner = await caller.tmux.tryRun([
    "display-message",
    "-p",
    "-t",
    window,
    "#{window_id}\t#{@wm_worktree}",
  ]);
  const [id, worktree] = owner?.split("\t") ?? [];
  if (id !== window) return undefined;
  return { tmux: caller.tmux, window, worktree: worktree || undefined };
}

/** Which recorded worktree a status call is about: the path it names, else its tmux window. */
async function target(svc: WorktreeService, params: SetParams) {
  const byPath = params.worktree ? await svc.entryAt(params.worktree) : undefined;
  if (byPath) return { entry: byPath, window: undefined };
  const win = await callerWindow(svc, params);
  const entry = win?.worktree ? await svc.state.get(win.worktree) : undefined;
  return { entry, window: win };
}

/** Records a status, shows it in tmux and emits `status changed`; honours `onlyIf`. */
export async function applyStatus(
  svc: WorktreeService,
  entry: WorktreeEntry,
  status: AgentStatus | null,
  onlyIf?: readonly AgentStatus[],
): Promise<{ entry: WorktreeEntry; changed: boolean }> {
  let changed = false;
  const now = new Date().toISOString();
  const updated = await svc.state.update(entry.path, (current) => {
    if (onlyIf && !(current.status && onlyIf.includes(current.status))) return undefined;
    changed = current.status !== status;
    return { status, statusAt: now, lastActivity: now };
  });
  if (!updated) return { entry, changed: false };
  if (changed && updated.tmux && (await svc.liveWindow(updated))) {
    const config = await svc.config({ root: updated.repo, commonDir: updated.commonDir });
    await showEntryStatus(tmuxAt(updated.tmux.socketPath, svc.daemon.env), updated, config).catch(
      (err) =>
        svc.daemon.log.warn({ err, worktree: updated.path }, "showing the status in tmux failed"),
    );
  }
  if (changed)
    svc.emit("status", "changed", updated, { status, window: updated.tmux?.window ?? null });
  return { entry: updated, changed };
}

/** A tmux window wm does not know (an agent started by hand): options and name only. */
async function untrackedWindow(
  tmux: Tmux,
  window: string,
  status: AgentStatus | null,
  icon: string | null,
) {
  const name = await tmux.run([
    "display-message",
    "-p",
    "-t",
    window,
    "#{?@wm_title,#{@wm_title},#{window_name}}",
  ]);
  await tmux.run(["set-option", "-w", "-t", window, "@wm_title", name]);
  await showStatus(tmux, window, { status, icon, title: name });
}

export async function setStatus(
  svc: WorktreeService,
  params: SetParams,
): Promise<Result<"worktree.statusSet">> {
  const status = params.status === "clear" ? null : params.status;
  const { entry, window } = await target(svc, params);
  if (entry) {
    const done = await applyStatus(svc, entry, status, params.onlyIf);
    return {
      worktree: entry.path,
      handle: entry.handle,
      status: done.entry.status,
      changed: done.changed,
    };
  }
  if (window) {
    const current =
      (await window.tmux.tryRun(["show-options", "-wqv", "-t", window.window, "@wm_status"])) ||
      null;
    if (params.onlyIf && !(current && params.onlyIf.includes(current as AgentStatus))) {
      return {
        worktree: null,
        handle: null,
        status: current as AgentStatus | null,
        changed: false,
      };
    }
    const repo = params.worktree ? await svc.repoOf(params.worktree) : undefined;
    const icon = iconFor(repo ? await svc.config(repo) : await svc.globalConfig(), status);
    await untrackedWindow(window.tmux, window.window, status, icon);
    const server = await socketPathOf(window.tmux);
    svc.daemon.events.emit("status", "changed", {
      worktree: params.worktree ?? null,
      window: window.window,
      server,
      status,
    });
    return { worktree: null, handle: null, status, changed: current !== status };
  }
  const where = params.worktree ?? params.window ?? params.tmux?.pane;
  throw new RpcError(
    "NotFound",
    `${where} is not in a worktree or tmux window wm knows; \`wm add\` creates one`,
  );
}

export async function listWorktrees(
  svc: WorktreeService,
  params: { cwd?: string | undefined; all: boolean },
): Promise<{ repo: string | null; entries: WorktreeEntry[]; current: WorktreeEntry | undefined }> {
  const repo = params.cwd && !params.all ? await svc.repoOf(params.cwd) : undefined;
  const all = await svc.entries(repo);
  const real = params.cwd ? await realpath(params.cwd).catch(() => params.cwd) : undefined;
  const current = real
    ? all.filter((e) => isInside(real, e.path)).sort((a, b) => b.path.length - a.path.length)[0]
    : undefined;
  const entries = all.sort((a, b) =>
    a.repo === b.repo ? a.createdAt.localeCompare(b.createdAt) : a.repo.localeCompare(b.repo),
  );
  return { repo: repo?.root ?? null, entries, current };
}

/**
 * Shows status changes of sandboxed agents (the guest `status.set`, emitted by the sandbox
 * manager with a `sandbox` field) on their worktree's window and records them.
 */
export function mirrorSandboxStatus(svc: WorktreeService): () => void {
  return svc.daemon.events.subscribe(["status"], (event) => {
    const { sandbox, worktree, status } = event.data as {
      sandbox?: unknown;
      worktree?: unknown;
      status?: unknown;
    };
    if (typeof sandbox !== "string" || typeof worktree !== "string") return;
    void svc.state
      .get(worktree)
      .then((entry) =>
        entry ? applyStatus(svc, entry, (status as AgentStatus | null) ?? null) : undefined,
      )
      .catch((err) => svc.daemon.log.warn({ err, worktree }, "mirroring a sandbox status failed"));
  });
}
