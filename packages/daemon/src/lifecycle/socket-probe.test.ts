import { spawn } from "node:child_process";
import { link, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { probeSocket } from "./socket-probe.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-probe-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A listener that never accepts, with a backlog of one: further connects fail with EAGAIN. */
function saturatedListener(socketPath: string) {
  const child = spawn("python3", [
    "-c",
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX)",
      `s.bind(${JSON.stringify(socketPath)})`,
      "s.listen(0)",
      "print('ready', flush=True)",
      "sys.stdin.read()",
    ].join("\n"),
  ]);
  const ready = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return { ready, stop: () => child.kill() };
}

const opened: net.Socket[] = [];
afterEach(() => {
  for (const sock of opened.splice(0)) sock.destroy();
});

function connectOnce(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ path: socketPath });
    opened.push(sock);
    sock.once("connect", () => resolve("connected"));
    sock.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
  });
}

describe("probeSocket", () => {
  it("calls a socket file nobody listens on stale, and a missing one absent", async () => {
    const file = path.join(dir, "dead.sock");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(file, resolve));
    // Closing a listener normally unlinks its socket; a killed daemon leaves it behind.
    const copy = path.join(dir, "left-behind.sock");
    await link(file, copy);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await probeSocket(copy)).toBe("stale");
    expect(await probeSocket(path.join(dir, "none.sock"))).toBe("absent");
  });

  it("never calls a live daemon with a full backlog stale (EAGAIN is not ECONNREFUSED)", async () => {
    const file = path.join(dir, "busy.sock");
    const listener = saturatedListener(file);
    try {
      await listener.ready;
      // Fill the backlog until the kernel refuses more with EAGAIN: the state a flood leaves.
      const seen: string[] = [];
      while (!seen.includes("EAGAIN") && seen.length < 64) seen.push(await connectOnce(file));
      expect(seen).toContain("EAGAIN");
      expect(await probeSocket(file)).toBe("live");
    } finally {
      listener.stop();
    }
  });
});
