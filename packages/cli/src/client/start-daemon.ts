import { setTimeout as sleep } from "node:timers/promises";
import type { WmPaths } from "@wm/protocol";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { ConnectOptions } from "./connect.ts";
import { tailFile } from "./log-tail.ts";
import { DaemonConnectionLostError, DaemonNotRunningError, type RpcClient } from "./rpc-client.ts";
import { spawnDaemon } from "./spawn-daemon.ts";
import { alive, takeSpawnLock } from "./spawn-lock.ts";

async function answers(client: RpcClient): Promise<boolean> {
  try {
    await client.call("daemon.status", {});
    return true;
  } catch (err) {
    if (err instanceof DaemonNotRunningError || err instanceof DaemonConnectionLostError)
      return false;
    return true;
  }
}

async function startFailure(paths: WmPaths, reason: string): Promise<CliError> {
  const tail = await tailFile(paths.logFile, 20);
  return new CliError(
    `could not start the wm daemon: ${reason}`,
    ExitCode.DaemonUnavailable,
    `see the full log with \`wm daemon logs\` (${paths.logFile})`,
    tail.length > 0
      ? `last lines of ${paths.logFile}:\n${tail.map((l) => `  ${l}`).join("\n")}`
      : undefined,
  );
}

/**
 * Start the daemon and wait, bounded, until it answers. When another client is already
 * spawning one, wait for that one instead (and spawn only if its spawner dies first).
 */
export async function startAndWait(opts: ConnectOptions, client: RpcClient): Promise<void> {
  const timeoutMs = opts.startTimeoutMs ?? Number(opts.env.WM_START_TIMEOUT_MS ?? 10_000);
  const deadline = Date.now() + timeoutMs;
  const lockFile = `${opts.paths.lockFile}.spawn`;
  for (;;) {
    const lock = await takeSpawnLock(lockFile);
    if (!("heldBy" in lock)) {
      try {
        return await spawnAndWait(opts, client, deadline, timeoutMs);
      } finally {
        await lock.release();
      }
    }
    while (alive(lock.heldBy) && Date.now() < deadline) {
      if (await answers(client)) return;
      await sleep(50);
    }
    if (await answers(client)) return;
    if (Date.now() >= deadline)
      throw await startFailure(
        opts.paths,
        `the daemon another wm started (pid ${lock.heldBy}) did not answer within ${Math.round(timeoutMs / 1000)} s`,
      );
  }
}

async function spawnAndWait(
  opts: ConnectOptions,
  client: RpcClient,
  deadline: number,
  timeoutMs: number,
): Promise<void> {
  if (await answers(client)) return;
  const spawned = await spawnDaemon(opts.paths, opts.env);
  let exitCode: number | null | undefined;
  void spawned.exited.then((code) => {
    exitCode = code;
  });
  let delay = 10;
  while (Date.now() < deadline) {
    if (await answers(client)) return;
    if (exitCode !== undefined && exitCode !== 0) {
      // Give a racing peer's daemon a moment: a non-zero exit is a real failure only if none answers.
      if (await answers(client)) return;
      throw await startFailure(opts.paths, `the daemon process exited with code ${exitCode}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  throw await startFailure(
    opts.paths,
    `it did not answer within ${Math.round(timeoutMs / 1000)} s`,
  );
}
