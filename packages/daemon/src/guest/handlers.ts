import { RpcError } from "@wm/protocol";
import type { CallContext } from "../context.ts";
import type { HandlerTable } from "../rpc/dispatch.ts";
import { agentMerge, agentSpawn } from "./spawn-merge.ts";

function sandboxOf(call: CallContext) {
  if (!call.sandbox) throw new RpcError("Refused", "this method is served to sandboxes only");
  const record = call.daemon.sandboxes.get(call.sandbox.id);
  if (!record) throw new RpcError("NotFound", `sandbox ${call.sandbox.id} no longer exists`);
  return record;
}

/**
 * The guest surface: small, and every call acts on the caller's own sandbox only. Every line
 * logged for a guest names its sandbox (`sandbox: id`): that puts it under the logger's
 * per-sandbox limit (log-limit.ts), so a flood of calls cannot flood the daemon log.
 */
export const guestHandlers: HandlerTable = {
  "status.set": async (params, call) => {
    const record = sandboxOf(call);
    const status = params.status === "clear" ? null : params.status;
    await call.daemon.sandboxes.gitShadows.syncSandbox(record.id);
    await call.daemon.sandboxes.setAgentStatus(record.id, status);
    return { status };
  },
  "status.get": (_params, call) => {
    const record = sandboxOf(call);
    return { status: record.agentStatus, worktree: record.worktree, sandbox: record.id };
  },
  "agent.spawn": agentSpawn,
  "agent.merge": agentMerge,
  "agent.notify": (params, call) => {
    const record = sandboxOf(call);
    call.daemon.log.info({ sandbox: record.id, message: params.message }, "agent notification");
    call.daemon.events.emit("status", "notify", {
      sandbox: record.id,
      worktree: record.worktree,
      message: params.message,
    });
    return { delivered: call.daemon.events.subscriberCount > 0 };
  },
};
