import type { MethodName, Params, Result } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { WS_MAX_IN_FLIGHT } from "@wm/protocol/streams";
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  VERSION_HEADER,
  WM_VERSION,
} from "@wm/protocol/version";
import type WebSocket from "ws";
import { DaemonNotRunningError } from "./rpc-client.ts";

export interface WsHandlers {
  onNotification(method: string, params: Record<string, unknown>): void;
  onBinary(frame: Buffer): void;
  onClose(code: number): void;
}

/** JSON-RPC over the daemon's WebSocket, with binary frames for terminal streams. */
export class WsRpc {
  #nextId = 1;
  /** Calls sent and not yet answered, and those waiting for room. */
  #sent = 0;
  readonly #queued: string[] = [];
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {}

  static async open(socketPath: string, handlers: WsHandlers): Promise<WsRpc> {
    const { default: WebSocketImpl } = await import("ws");
    const ws = new WebSocketImpl(`ws+unix://${socketPath}:/ws`, {
      headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), [VERSION_HEADER]: WM_VERSION },
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", (err: NodeJS.ErrnoException) => {
        reject(
          err.code === "ENOENT" || err.code === "ECONNREFUSED"
            ? new DaemonNotRunningError(socketPath, err.code)
            : err,
        );
      });
    });
    const rpc = new WsRpc(ws);
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        handlers.onBinary(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        return;
      }
      const msg = JSON.parse(String(data)) as {
        id?: number;
        method?: string;
        params?: Record<string, unknown>;
        result?: unknown;
        error?: { code: number; message: string; data?: unknown };
      };
      if (msg.method) {
        handlers.onNotification(msg.method, msg.params ?? {});
        return;
      }
      const waiter = typeof msg.id === "number" ? rpc.#pending.get(msg.id) : undefined;
      if (!waiter) return;
      rpc.#pending.delete(msg.id as number);
      rpc.#answered();
      if (msg.error) waiter.reject(RpcError.fromObject(msg.error));
      else waiter.resolve(msg.result);
    });
    ws.on("error", () => undefined);
    ws.on("close", (code) => {
      for (const w of rpc.#pending.values())
        w.reject(new Error(`the daemon connection closed (${code})`));
      rpc.#pending.clear();
      rpc.#queued.length = 0;
      handlers.onClose(code);
    });
    return rpc;
  }

  /**
   * One call; many may be made at once (pipelined on this connection). Beyond the daemon's
   * in-flight limit they wait here, in order, and go as earlier ones are answered.
   */
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const message = JSON.stringify({ jsonrpc: "2.0", id, method, params });
      if (this.#sent < WS_MAX_IN_FLIGHT) this.#send(message);
      else this.#queued.push(message);
    });
  }

  #send(message: string): void {
    this.#sent++;
    this.ws.send(message);
  }

  /** An answer arrived: a queued call may go. */
  #answered(): void {
    this.#sent--;
    const next = this.#queued.shift();
    if (next !== undefined) this.#send(next);
  }

  sendBinary(frame: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame, { binary: true });
  }

  close(): void {
    this.ws.close();
  }
}
