import { PROTOCOL_VERSION, WM_VERSION } from "@wm/protocol";
import type { Handler } from "../rpc/dispatch.ts";

export const daemonStatus: Handler<"daemon.status"> = (_params, { daemon }) => ({
  version: WM_VERSION,
  protocolVersion: PROTOCOL_VERSION,
  pid: daemon.pid,
  startedAt: daemon.startedAt.toISOString(),
  uptimeMs: Date.now() - daemon.startedAt.getTime(),
  socketPath: daemon.paths.socketPath,
  logFile: daemon.paths.logFile,
  liveSandboxes: daemon.liveSandboxes(),
  idleTimeoutMs: daemon.settings.idleTimeoutMs,
  socketActivated: daemon.socketActivated,
});
