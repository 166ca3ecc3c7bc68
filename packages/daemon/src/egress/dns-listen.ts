import dgram from "node:dgram";
import net from "node:net";

/** Answers one DNS message; undefined when no reply is owed. Never rejects. */
export type DnsAnswerer = (message: Buffer) => Promise<Buffer | undefined>;

export interface DnsListener {
  address: string;
  port: number;
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 16;

function checkBindAddress(host: string): void {
  if (net.isIP(host) === 0 || host === "0.0.0.0" || host === "::") {
    throw new Error(
      `the sandbox DNS server needs one IP address to listen on, not ${JSON.stringify(host)}: ` +
        "give the address of the sandbox's own network (or 127.0.0.1)",
    );
  }
}

/** Serves `answer` over UDP on `host:port` (port 0 picks one). */
export async function serveUdp(
  answer: DnsAnswerer,
  port: number,
  host: string,
): Promise<DnsListener> {
  checkBindAddress(host);
  const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", () => {}); // a failed send to one client must not end the server
  socket.on("message", (message, from) => {
    void answer(message).then(
      (out) => out && socket.send(out, from.port, from.address, () => {}),
      () => {},
    );
  });
  const bound = socket.address();
  const close = () => new Promise<void>((resolve) => socket.close(() => resolve()));
  return { address: bound.address, port: bound.port, close };
}

/** Serves `answer` over TCP on `host:port`: each message behind a 2-byte length, in turn. */
export async function serveTcp(
  answer: DnsAnswerer,
  port: number,
  host: string,
): Promise<DnsListener> {
  checkBindAddress(host);
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    void serveConnection(answer, socket);
  });
  server.maxConnections = TCP_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of open) socket.destroy();
    });
  return { address: bound.address, port: bound.port, close };
}

/**
 * One connection's messages, each behind a 2-byte length; a zero length or an error ends it.
 * In turn by default (DNS over TCP); `concurrent` answers each as soon as it is ready, in any
 * order (a relay's datagrams, which it matches to their senders by DNS id).
 */
export async function serveConnection(
  answer: DnsAnswerer,
  socket: net.Socket,
  opts: { concurrent?: boolean } = {},
): Promise<void> {
  socket.on("error", () => socket.destroy());
  const send = (out: Buffer | undefined) => {
    if (out && socket.writable) socket.write(Buffer.concat([lengthPrefix(out.length), out]));
  };
  let pending = Buffer.alloc(0);
  try {
    for await (const chunk of socket) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (length === 0) return void socket.destroy();
        if (pending.length < 2 + length) break;
        const message = Buffer.from(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        if (opts.concurrent) void answer(message).then(send, () => {});
        else send(await answer(message));
      }
    }
    socket.end();
  } catch {
    socket.destroy();
  }
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length);
  return prefix;
}
