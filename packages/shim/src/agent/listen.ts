import { chmodSync, chownSync, rmSync } from "node:fs";
import net from "node:net";
import type { AgentStreamId } from "@wm/protocol/guest-agent";
import type { GuestProcess, ProcessEvents } from "./exec.ts";

/**
 * One connection accepted on a listener, seen by the link as a process: its input is what the
 * host sends, its stdout what the guest client sends; it exits (0) when the socket closes.
 */
export function socketProcess(socket: net.Socket, events: ProcessEvents): GuestProcess {
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    events.exit(0);
  };
  socket.on("data", (d: Buffer) => events.output(1, d));
  socket.on("drain", () => events.inputFull(false));
  socket.on("end", () => events.output(1, Buffer.alloc(0)));
  socket.on("close", finish);
  socket.on("error", () => socket.destroy());
  return {
    pid: 0,
    write: (data) => {
      const ok = socket.write(data);
      if (!ok) events.inputFull(true);
      return ok;
    },
    endInput: () => socket.end(),
    resize: () => undefined,
    signal: () => socket.destroy(),
    setPaused: (stream: AgentStreamId, paused: boolean) => {
      if (stream !== 1) return;
      if (paused) socket.pause();
      else socket.resume();
    },
  };
}

/**
 * A Unix socket the host asked for. Each connection is handed to `accepted`; any signal closes
 * the listener (connections already made go on) and it exits 0.
 */
export function listenProcess(
  req: { path: string; uid: number; gid: number },
  accepted: (socket: net.Socket) => void,
  events: ProcessEvents,
  /** The socket is there, owned and moded: a client may connect from now on. */
  ready: () => void,
): GuestProcess | undefined {
  let closed = false;
  // Half-open: a client that ends its side still gets the answer the host sends after.
  const server = net.createServer({ allowHalfOpen: true }, accepted);
  const close = (code: number, error?: string) => {
    if (closed) return;
    closed = true;
    server.close();
    rmSync(req.path, { force: true });
    events.exit(code, error);
  };
  server.once("error", (err) => close(126, `cannot listen on ${req.path}: ${err.message}`));
  try {
    rmSync(req.path, { force: true });
  } catch (err) {
    events.exit(126, `cannot listen on ${req.path}: ${(err as Error).message}`);
    return undefined;
  }
  server.listen(req.path, () => {
    try {
      chownSync(req.path, req.uid, req.gid);
      chmodSync(req.path, 0o600);
    } catch (err) {
      close(126, `cannot hand ${req.path} to ${req.uid}:${req.gid}: ${(err as Error).message}`);
      return;
    }
    ready();
  });
  return {
    pid: process.pid,
    write: () => true,
    endInput: () => undefined,
    resize: () => undefined,
    signal: () => close(0),
    setPaused: () => undefined,
  };
}
