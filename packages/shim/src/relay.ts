import dgram from "node:dgram";
import net from "node:net";
import path from "node:path";

/**
 * `wm-shim relay DIR`: the network side of a sandbox under `network.policy: deny`. It runs in
 * the network namespace the sandbox shares (which has loopback only) and carries bytes, nothing
 * else, to the daemon's per-sandbox sockets in DIR:
 *   127.0.0.1:3128 (TCP) → DIR/proxy.sock   the egress proxy
 *   127.0.0.1:53   (TCP) → DIR/dns.sock     DNS, 2-byte length framing both sides
 *   127.0.0.1:53   (UDP) → DIR/dns-udp.sock each datagram framed the same way
 * Every decision is the daemon's; the socket a connection arrives on tells it which sandbox.
 */
export const RELAY_PORTS = { proxy: 3128, dns: 53 } as const;
const HOST = "127.0.0.1";
/** Datagrams waiting for an answer at once; more are dropped, as a busy resolver would. */
const MAX_UDP_IN_FLIGHT = 64;

function pipeTo(socketPath: string) {
  return (client: net.Socket) => {
    const upstream = net.connect(socketPath);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };
}

function listenTcp(port: number, socketPath: string): Promise<net.Server> {
  // No Nagle: a reply written after the last handshake record must not wait for a delayed ACK.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, pipeTo(socketPath));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, () => resolve(server));
  });
}

/** UDP DNS over one stream to the daemon: each query framed, answers matched by DNS id. */
function listenUdp(port: number, socketPath: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  const waiting = new Map<number, { port: number; address: string }[]>();
  let upstream: net.Socket | undefined;
  let inFlight = 0;
  const connectUpstream = (): net.Socket => {
    if (upstream && !upstream.destroyed) return upstream;
    const conn = net.connect(socketPath);
    let pending = Buffer.alloc(0);
    conn.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const answer = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + answer.length);
        if (answer.length < 2) continue;
        const to = waiting.get(answer.readUInt16BE(0))?.shift();
        if (!to) continue;
        inFlight--;
        socket.send(answer, to.port, to.address, () => {});
      }
    });
    conn.on("error", () => conn.destroy());
    conn.on("close", () => {
      waiting.clear();
      inFlight = 0;
    });
    upstream = conn;
    return conn;
  };
  socket.on("error", () => {});
  socket.on("message", (message, from) => {
    if (message.length < 12 || inFlight >= MAX_UDP_IN_FLIGHT) return;
    const id = message.readUInt16BE(0);
    const queue = waiting.get(id) ?? [];
    queue.push({ port: from.port, address: from.address });
    waiting.set(id, queue);
    inFlight++;
    const frame = Buffer.alloc(2 + message.length);
    frame.writeUInt16BE(message.length);
    message.copy(frame, 2);
    connectUpstream().write(frame);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, HOST, () => resolve(socket));
  });
}

export async function runRelay(
  args: readonly string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const dir = args[0];
  if (args.length !== 1 || !dir || !path.isAbsolute(dir)) {
    io.stderr.write("usage: wm-shim relay DIR (DIR holds the daemon's egress sockets)\n");
    return 2;
  }
  try {
    await Promise.all([
      listenTcp(RELAY_PORTS.proxy, path.join(dir, "proxy.sock")),
      listenTcp(RELAY_PORTS.dns, path.join(dir, "dns.sock")),
      listenUdp(RELAY_PORTS.dns, path.join(dir, "dns-udp.sock")),
    ]);
  } catch (err) {
    io.stderr.write(`wm-shim relay: cannot listen: ${(err as Error).message}\n`);
    return 1;
  }
  // The daemon waits for this line before the sandbox joins this network namespace.
  io.stdout.write("wm netns ready\n");
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  return 0;
}
