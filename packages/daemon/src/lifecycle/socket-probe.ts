import net from "node:net";

export type SocketState = "live" | "stale" | "absent";

/**
 * Whether something accepts connections on a Unix socket path. Liveness is decided by
 * connecting, never by trusting a pid file. Only a refused connection (ECONNREFUSED: nothing
 * listens on the socket file) makes it "stale"; a full backlog (EAGAIN), a timeout or any other
 * error means a daemon may still be there, so its socket must not be removed.
 */
export function probeSocket(socketPath: string, timeoutMs = 1000): Promise<SocketState> {
  return new Promise((resolve) => {
    const sock = net.connect({ path: socketPath });
    const done = (state: SocketState) => {
      sock.destroy();
      resolve(state);
    };
    sock.setTimeout(timeoutMs, () => done("live"));
    sock.once("connect", () => done("live"));
    sock.once("error", (err: NodeJS.ErrnoException) => {
      done(err.code === "ENOENT" ? "absent" : err.code === "ECONNREFUSED" ? "stale" : "live");
    });
  });
}
