import { promises as fs } from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Registration, WmPaths } from "@wm/protocol";
import { DaemonConnectionLostError, DaemonNotRunningError, RpcClient } from "./rpc-client.ts";

export type StopOutcome =
  | { state: "not-running" }
  | { state: "stopped"; pid: number | undefined; how: "shutdown" | "signal" };

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: socketPath });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function readRegistration(file: string): Promise<Registration | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as Registration;
  } catch {
    return undefined;
  }
}

async function waitGone(socketPath: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await socketAnswers(socketPath))) return true;
    await sleep(25);
  }
  return false;
}

/**
 * Ask the daemon to shut down (`daemon.shutdown` keeps its shape across versions), wait until
 * its socket stops answering, and fall back to SIGTERM for the registered pid if it will not.
 */
export async function stopDaemon(paths: WmPaths, timeoutMs = 10_000): Promise<StopOutcome> {
  const reg = await readRegistration(paths.registrationFile);
  const client = new RpcClient(paths.socketPath);
  let pid = reg?.pid;
  try {
    pid = (await client.call("daemon.shutdown", {})).pid;
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return { state: "not-running" };
    if (!(err instanceof DaemonConnectionLostError) && pid === undefined) throw err;
  } finally {
    await client.close();
  }
  if (await waitGone(paths.socketPath, timeoutMs))
    return { state: "stopped", pid, how: "shutdown" };
  if (pid !== undefined) {
    process.kill(pid, "SIGTERM");
    if (await waitGone(paths.socketPath, timeoutMs))
      return { state: "stopped", pid, how: "signal" };
  }
  throw new Error(
    `the daemon${pid ? ` (pid ${pid})` : ""} did not stop within ${timeoutMs / 1000} s`,
  );
}
