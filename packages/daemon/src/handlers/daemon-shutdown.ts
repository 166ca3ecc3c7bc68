import type { Handler } from "../rpc/dispatch.ts";

export const daemonShutdown: Handler<"daemon.shutdown"> = (_params, { daemon }) => {
  // Answer first; the shutdown waits for this and every other in-flight call.
  setImmediate(() => daemon.requestShutdown("daemon.shutdown called"));
  return { pid: daemon.pid, stopping: true };
};
