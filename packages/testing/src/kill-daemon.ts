import { promises as fs } from "node:fs";
import net from "node:net";
import type { TempHome } from "./temp-home.ts";

/** A connection to the daemon's socket, or undefined when nothing listens there. */
function connect(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: socketPath });
    socket.once("connect", () => resolve(socket));
    socket.once("error", () => resolve(undefined));
  });
}

/**
 * Kills the daemon registered in `home` with SIGKILL and resolves, with its pid, once the
 * kernel is tearing it down; undefined when no daemon is registered or none listens (it
 * registers only once it does), and then nothing is signalled.
 *
 * The daemon is not a child of the test (the CLI spawns it detached), so no exit event reaches
 * this process, and Node has no pidfd. What the kernel does give is a dying process's files
 * closing: a connection made to its socket beforehand ends when the daemon exits, whether it
 * had accepted it or it still waited in the listen queue. No other process shares that end:
 * the daemon's descriptors are close-on-exec and it hands no socket to a child. By then it
 * runs no more code: it writes no file and answers no call, which is what a test that kills
 * it relies on next.
 */
export async function killDaemon(
  home: Pick<TempHome, "registrationFile" | "socketPath">,
): Promise<number | undefined> {
  const text = await fs.readFile(home.registrationFile, "utf8").catch(() => "{}");
  const pid = (JSON.parse(text) as { pid?: number }).pid;
  if (pid === undefined) return undefined;
  const socket = await connect(home.socketPath);
  if (!socket) return undefined;
  // A reset (ECONNRESET) is how a connection still queued ends: wait for "close" either way.
  socket.on("error", () => undefined);
  const ended = new Promise((resolve) => socket.once("close", resolve));
  process.kill(pid, "SIGKILL");
  await ended;
  return pid;
}
