import type { Handler } from "../rpc/dispatch.ts";
import { captureAgent, sendToAgent } from "../worktrees/agent-pane.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeSend: Handler<"worktree.send"> = async (params, { daemon }) => {
  const svc = worktreeService(daemon);
  const entry = await svc.find(params.cwd, params.name);
  return { handle: entry.handle, pane: await sendToAgent(svc, entry, params.text) };
};

export const worktreeCapture: Handler<"worktree.capture"> = async (params, { daemon }) => {
  const svc = worktreeService(daemon);
  const entry = await svc.find(params.cwd, params.name);
  return { handle: entry.handle, ...(await captureAgent(svc, entry, params.lines)) };
};
