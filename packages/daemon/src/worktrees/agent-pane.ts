import { RpcError, type SendKey } from "@wm/protocol";
import { tmuxAt } from "../tmux/client-target.ts";
import { type Tmux, TmuxError } from "../tmux/tmux-client.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import type { WindowPlan } from "./window-checks.ts";

/** The pane option that marks the pane(s) running the agent. */
const AGENT_MARK = "@wm_agent";

/** Marks the panes whose command runs the agent, given in the order `openWindow` returned them. */
export async function markAgentPanes(
  tmux: Tmux,
  plan: WindowPlan,
  ids: readonly string[],
): Promise<void> {
  const panes = plan.windows.flatMap((w) => w.panes);
  for (const [i, pane] of panes.entries()) {
    const id = ids[i];
    if (id && pane.plan.agent) await tmux.run(["set-option", "-p", "-t", id, AGENT_MARK, "1"]);
  }
}

export interface AgentPane {
  tmux: Tmux;
  pane: string;
}

/**
 * The first pane marked as the agent's in the entry's live window (its session in session
 * mode); an error naming the worktree when the window is closed or no pane runs the agent.
 */
export async function agentPane(svc: WorktreeService, entry: WorktreeEntry): Promise<AgentPane> {
  const live = await svc.liveWindow(entry);
  if (!live || !entry.tmux) {
    throw new RpcError(
      "NotFound",
      `${entry.handle} has no window open; \`wm open ${entry.handle}\` opens it`,
      { worktree: entry.path },
    );
  }
  const tmux = tmuxAt(entry.tmux.socketPath, svc.daemon.env);
  const scope = entry.mode === "session" ? ["-s", "-t", live.session] : ["-t", live.window];
  let out: string;
  try {
    out = await tmux.run(["list-panes", ...scope, "-F", `#{pane_id}\t#{${AGENT_MARK}}`]);
  } catch (err) {
    if (!(err instanceof TmuxError)) throw err;
    throw new RpcError(
      "Unavailable",
      `listing the panes of ${entry.handle} failed: ${err.message}`,
    );
  }
  const pane = out
    .split("\n")
    .map((line) => line.split("\t"))
    .find(([, mark]) => mark === "1")?.[0];
  if (!pane) {
    throw new RpcError(
      "NotFound",
      `no pane in the window of ${entry.handle} runs the agent (no pane command is "<agent>" or the agent's program); \`wm close ${entry.handle}\` and \`wm open ${entry.handle}\` reopen it with the configured panes`,
      { worktree: entry.path },
    );
  }
  return { tmux, pane };
}

/** Types `text` literally into the agent pane, then Enter. */
export async function sendToAgent(
  svc: WorktreeService,
  entry: WorktreeEntry,
  text: string,
): Promise<string> {
  const { tmux, pane } = await agentPane(svc, entry);
  await tmux.run(["send-keys", "-t", pane, "-l", text]);
  await tmux.run(["send-keys", "-t", pane, "Enter"]);
  return pane;
}

/**
 * Types each `text` item literally and presses each `key` item (a fixed tmux key name) in the
 * agent pane, in order, with no Enter of its own.
 */
export async function sendKeysToAgent(
  svc: WorktreeService,
  entry: WorktreeEntry,
  keys: ReadonlyArray<{ text: string } | { key: SendKey }>,
): Promise<string> {
  const { tmux, pane } = await agentPane(svc, entry);
  for (const item of keys) {
    if ("key" in item) await tmux.run(["send-keys", "-t", pane, item.key]);
    else await tmux.run(["send-keys", "-t", pane, "-l", item.text]);
  }
  return pane;
}

/** The agent pane's visible screen, or its last `lines` lines (scrollback included). */
export async function captureAgent(
  svc: WorktreeService,
  entry: WorktreeEntry,
  lines: number | undefined,
): Promise<{ pane: string; text: string }> {
  const { tmux, pane } = await agentPane(svc, entry);
  const range = lines === undefined ? [] : ["-S", `-${lines}`];
  const screen = await tmux.run(["capture-pane", "-p", "-t", pane, ...range]);
  if (lines === undefined) return { pane, text: screen };
  const kept = screen.replace(/\n+$/, "").split("\n").slice(-lines);
  return { pane, text: kept.join("\n") };
}
