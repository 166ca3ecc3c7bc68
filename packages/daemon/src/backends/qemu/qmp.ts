import net from "node:net";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * A QEMU Machine Protocol client on a Unix socket: greeting, `qmp_capabilities`, then commands
 * matched to replies by id. `closed` resolves when QEMU closes the socket — which it does when
 * it exits, so it is also the exit signal of a QEMU this process did not start.
 */
export class QmpClient {
  readonly closed: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf = "";
  private greeted: (() => void) | undefined;

  private constructor(private readonly sock: net.Socket) {
    this.closed = new Promise((resolve) => {
      sock.on("close", () => {
        for (const p of this.pending.values()) p.reject(new Error("QMP connection closed"));
        this.pending.clear();
        resolve();
      });
    });
    sock.on("error", () => {}); // reported through close / pending rejections
    sock.on("data", (chunk: Buffer) => this.onData(chunk.toString("utf8")));
  }

  /**
   * Connects; QEMU creates the socket file a moment before it listens, so a refused connection
   * is retried briefly.
   */
  static async connect(socketPath: string, timeoutMs = 10_000): Promise<QmpClient> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await QmpClient.connectOnce(socketPath, timeoutMs);
      } catch (e) {
        const refused = (e as Error).message.includes("ECONNREFUSED");
        if (!refused || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private static async connectOnce(socketPath: string, timeoutMs: number): Promise<QmpClient> {
    const sock = net.createConnection(socketPath);
    const client = new QmpClient(sock);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`QMP ${socketPath}: no greeting within ${timeoutMs} ms`));
      }, timeoutMs);
      client.greeted = () => {
        clearTimeout(timer);
        resolve();
      };
      sock.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`QMP ${socketPath}: ${e.message}`));
      });
    });
    await client.execute("qmp_capabilities");
    return client;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.sock.destroyed) return reject(new Error("QMP connection closed"));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(
        `${JSON.stringify({ execute: command, id, ...(args ? { arguments: args } : {}) })}\n`,
      );
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(text: string): void {
    this.buf += text;
    let nl = this.buf.indexOf("\n");
    while (nl !== -1) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf("\n");
      if (!line) continue;
      let msg: { QMP?: unknown; id?: number; return?: unknown; error?: { desc?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        continue; // not QMP; the pending command times out or fails on close
      }
      if (msg.QMP) this.greeted?.();
      if (typeof msg.id !== "number") continue; // events
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`QMP: ${msg.error.desc ?? "error"}`));
      else p?.resolve(msg.return);
    }
  }
}
