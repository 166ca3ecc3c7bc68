import { promises as fs } from "node:fs";
import http from "node:http";

export type FakeBehaviour =
  /** Answers like a daemon of another wm version: status works, other methods mismatch. */
  | "old-protocol"
  /** Accepts a request, then drops the connection without answering (a crash mid-request). */
  | "crash-mid-request";

export interface FakeDaemon {
  close(): Promise<void>;
  requests: string[];
}

/**
 * A stand-in daemon on a real Unix socket, for the client behaviours the real daemon cannot
 * be made to show on demand. It writes a registration file like the real one.
 */
export async function startFakeDaemon(opts: {
  socketPath: string;
  registrationFile: string;
  runtimeDir: string;
  behaviour: FakeBehaviour;
}): Promise<FakeDaemon> {
  await fs.mkdir(opts.runtimeDir, { recursive: true, mode: 0o700 });
  const requests: string[] = [];
  const version = "0.0.1";
  const protocolVersion = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const msg = JSON.parse(body) as { id: number; method: string };
      requests.push(msg.method);
      if (opts.behaviour === "crash-mid-request") {
        req.socket.destroy();
        void close();
        return;
      }
      const reply = (payload: object) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, ...payload }));
      };
      if (msg.method === "daemon.status") {
        reply({
          result: {
            version,
            protocolVersion,
            pid: process.pid,
            startedAt: new Date().toISOString(),
            uptimeMs: 1,
            socketPath: opts.socketPath,
            logFile: "/dev/null",
            liveSandboxes: 0,
            idleTimeoutMs: 0,
            socketActivated: false,
          },
        });
      } else if (msg.method === "daemon.shutdown") {
        reply({ result: { pid: process.pid, stopping: true } });
        setImmediate(() => void close());
      } else {
        reply({
          error: { code: -32004, message: "client and daemon speak different protocol versions" },
        });
      }
    });
  });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }).then(() => fs.rm(opts.registrationFile, { force: true }));
    return closed;
  };
  await new Promise<void>((resolve) => server.listen(opts.socketPath, resolve));
  await fs.writeFile(
    opts.registrationFile,
    JSON.stringify({
      pid: process.pid,
      socketPath: opts.socketPath,
      version,
      protocolVersion,
      startedAt: new Date().toISOString(),
    }),
  );
  return { close, requests };
}
