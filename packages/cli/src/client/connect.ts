import type { WmPaths } from "@wm/protocol";
import { DaemonNotRunningError, RpcClient } from "./rpc-client.ts";

export interface ConnectOptions {
  paths: WmPaths;
  env: NodeJS.ProcessEnv;
  /** Start the daemon when none answers (default true). */
  autoStart?: boolean;
  startTimeoutMs?: number;
}

/**
 * Run `fn` against the daemon, starting it first when nothing listens. A call that was sent
 * and lost (the daemon died mid-request) is not retried: it may have had effects.
 */
export async function withDaemon<T>(
  opts: ConnectOptions,
  fn: (client: RpcClient) => Promise<T>,
): Promise<T> {
  const client = new RpcClient(opts.paths.socketPath);
  try {
    try {
      return await fn(client);
    } catch (err) {
      if (!(err instanceof DaemonNotRunningError) || opts.autoStart === false) throw err;
    }
    // Starting a daemon (spawn, lock, log tail) is loaded only when none answered.
    const { startAndWait } = await import("./start-daemon.ts");
    await startAndWait(opts, client);
    return await fn(client);
  } finally {
    await client.close();
  }
}
