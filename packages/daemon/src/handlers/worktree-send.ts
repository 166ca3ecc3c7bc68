import type { Handler } from "../rpc/dispatch.ts";
import { captureAgent, sendKeysToAgent, sendToAgent } from "../worktrees/agent-pane.ts";

export const worktreeSend: Handler<"worktree.send"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  const entry = await svc.find(params.cwd, params.name);
  const pane = params.keys
    ? await sendKeysToAgent(svc, entry, params.keys)
    : await sendToAgent(svc, entry, params.text ?? "");
  return { handle: entry.handle, pane };
};

export const worktreeCapture: Handler<"worktree.capture"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  const entry = await svc.find(params.cwd, params.name);
  return { handle: entry.handle, ...(await captureAgent(svc, entry, params.lines)) };
};
