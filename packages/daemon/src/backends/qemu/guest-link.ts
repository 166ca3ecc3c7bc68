import { EventEmitter, once } from "node:events";
import { chmod, rm } from "node:fs/promises";
import http from "node:http";
import {
  AGENT_WS_PATH,
  type AgentMessage,
  decodeFrame,
  type HostMessage,
  parseAgentMessage,
} from "@wm/protocol/guest-agent";
import { type WebSocket, WebSocketServer } from "ws";
import { GuestExec } from "./guest-link-process.ts";

export type AgentHello = Extract<AgentMessage, { type: "hello" }>;

export interface ExecOptions {
  cwd?: string;
  /** Added to the agent's environment. */
  env?: Record<string, string>;
  /** A terminal of this size; null or absent: pipes. */
  tty?: { rows: number; cols: number } | null;
}

interface GuestLinkEvents {
  connect: [hello: AgentHello];
  disconnect: [reason: string];
}

/**
 * The daemon's end of a VM's agent link: a WebSocket server on the Unix socket QEMU's guestfwd
 * connects to (it must listen before QEMU starts). One agent at a time; a newer connection
 * replaces an older one. Every exec is one channel on that connection.
 */
export class GuestLink extends EventEmitter<GuestLinkEvents> {
  readonly socketPath: string;
  readonly #server: http.Server;
  readonly #wss: WebSocketServer;
  readonly #execs = new Map<number, GuestExec>();
  /** Listener id → what takes its accepted connections. */
  readonly #listeners = new Map<number, (conn: GuestExec) => void>();
  #ws: WebSocket | undefined;
  #hello: AgentHello | undefined;
  #nextId = 1;

  private constructor(socketPath: string) {
    super();
    this.socketPath = socketPath;
    // The guest is not trusted: everything it sends is size-capped and schema-checked.
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: 16 << 20,
    });
    // QEMU connects at its start and the guest speaks only once booted: no header deadline.
    this.#server = http.createServer({ requestTimeout: 0, headersTimeout: 0 }, (_req, res) =>
      res.writeHead(404).end(),
    );
    this.#server.on("upgrade", (req, socket, head) => {
      if (req.url !== AGENT_WS_PATH) {
        socket.destroy();
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
    });
  }

  /** Listens on socketPath (mode 0600), replacing a stale socket file. */
  static async listen(socketPath: string): Promise<GuestLink> {
    const link = new GuestLink(socketPath);
    await rm(socketPath, { force: true });
    link.#server.listen(socketPath);
    await once(link.#server, "listening");
    await chmod(socketPath, 0o600);
    return link;
  }

  /** The agent's hello while it is connected. */
  get hello(): AgentHello | undefined {
    return this.#hello;
  }

  /** The agent's hello, now or when it connects; rejects after timeoutMs. */
  async waitForAgent(timeoutMs: number): Promise<AgentHello> {
    if (this.#hello) return this.#hello;
    const [hello] = (await once(this, "connect", { signal: AbortSignal.timeout(timeoutMs) }).catch(
      (err: Error) => {
        throw err.name === "AbortError"
          ? new Error(`the guest agent did not connect to ${this.socketPath} in ${timeoutMs} ms`)
          : err;
      },
    )) as [AgentHello];
    return hello;
  }

  /** Runs argv in the guest. Throws when no agent is connected. */
  exec(argv: readonly string[], opts: ExecOptions = {}): GuestExec {
    if (argv.length === 0) throw new Error("exec needs a command");
    const { ws, proc, id } = this.#channel(this.#nextId++);
    this.#send(ws, {
      type: "exec",
      id,
      argv: [...argv],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      tty: opts.tty ?? null,
    });
    return proc;
  }

  /**
   * A Unix socket at `guestPath` in the guest, owned by `owner`: each connection made to it is
   * handed to `onConnection` as a channel (its stdout is what the guest client wrote; write to
   * its stdin to answer). The returned channel is the listener: `started` once it listens,
   * `signal` closes it. Throws when no agent is connected.
   */
  listen(
    guestPath: string,
    owner: { uid: number; gid: number },
    onConnection: (conn: GuestExec) => void,
  ): GuestExec {
    const { ws, proc, id } = this.#channel(this.#nextId++);
    this.#listeners.set(id, onConnection);
    proc.exited.then(
      () => this.#listeners.delete(id),
      () => this.#listeners.delete(id),
    );
    this.#send(ws, { type: "listen", id, path: guestPath, uid: owner.uid, gid: owner.gid });
    return proc;
  }

  #channel(id: number): { ws: WebSocket; proc: GuestExec; id: number } {
    const ws = this.#ws;
    if (!ws || !this.#hello) throw new Error("the guest agent is not connected");
    const proc = new GuestExec(id, {
      message: (msg) => this.#send(ws, msg),
      frame: (data, done) => {
        if (ws.readyState !== ws.OPEN) done();
        else ws.send(data, (err) => done(err ?? null));
      },
    });
    this.#execs.set(id, proc);
    return { ws, proc, id };
  }

  async close(): Promise<void> {
    const ws = this.#ws;
    this.#drop("the link was closed", ws);
    ws?.terminate();
    this.#server.close();
    this.#server.closeAllConnections();
    await rm(this.socketPath, { force: true });
  }

  #send(ws: WebSocket, msg: HostMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }

  #accept(ws: WebSocket): void {
    const previous = this.#ws;
    if (previous) {
      this.#drop("the agent connected again", previous);
      previous.terminate();
    }
    this.#ws = ws;
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) {
        const f = decodeFrame(data);
        if (f) this.#execs.get(f.channel)?.data(f.stream, f.data);
        return;
      }
      const msg = parseAgentMessage(data.toString("utf8"));
      if (msg) this.#onMessage(msg);
    });
    ws.on("close", () => this.#drop("the agent's connection closed", ws));
    ws.on("error", () => {});
  }

  #onMessage(msg: AgentMessage): void {
    if (msg.type === "hello") {
      this.#hello = msg;
      this.emit("connect", msg);
      return;
    }
    if (msg.type === "accept") {
      const take = this.#listeners.get(msg.id);
      if (!take || this.#execs.has(msg.channel) || !this.#ws) return;
      take(this.#channel(msg.channel).proc);
      return;
    }
    const proc = this.#execs.get(msg.id);
    if (!proc) return;
    if (msg.type === "started") proc.begun(msg.pid);
    else if (msg.type === "exit") {
      this.#execs.delete(msg.id);
      proc.exit(msg.code, msg.error);
    } else if (msg.stream === 0) proc.inputPaused(msg.type === "pause");
  }

  /** Forgets the connection `ws` (if it is the current one) and every process on it. */
  #drop(reason: string, ws: WebSocket | undefined): void {
    if (!ws || ws !== this.#ws) return;
    this.#ws = undefined;
    const hadHello = this.#hello !== undefined;
    this.#hello = undefined;
    for (const proc of this.#execs.values()) proc.lost(reason);
    this.#execs.clear();
    this.#listeners.clear();
    if (hadHello) this.emit("disconnect", reason);
  }
}
