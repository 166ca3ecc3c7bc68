import net from "node:net";
import type { MethodName, Params, Result } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  VERSION_HEADER,
  WM_VERSION,
} from "@wm/protocol/version";
import { type HttpResponse, type MalformedResponseError, parseResponse } from "./http-response.ts";

/** Nothing listens on the socket (absent or refused): the daemon is not running. */
export class DaemonNotRunningError extends Error {
  constructor(
    readonly socketPath: string,
    readonly causeCode: string | undefined,
  ) {
    super(`no wm daemon is listening on ${socketPath}`);
    this.name = "DaemonNotRunningError";
  }
}

/** The connection broke after the request was sent: the daemon died or was killed. */
export class DaemonConnectionLostError extends Error {
  constructor(
    readonly socketPath: string,
    readonly causeMessage: string,
  ) {
    super(
      `the daemon closed the connection before answering (${causeMessage}); it may have crashed`,
    );
    this.name = "DaemonConnectionLostError";
  }
}

const NOT_RUNNING_CODES = new Set(["ENOENT", "ECONNREFUSED", "ENOTSOCK"]);

let nextId = 1;

/** The result of the daemon's answer `text` to call `id`, or the error it carries. */
function resultOf(text: string, id: number): unknown {
  let response: unknown;
  try {
    response = JSON.parse(text);
  } catch {
    throw new RpcError(
      "InternalError",
      `the daemon answered with something that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  const r = (typeof response === "object" && response !== null ? response : {}) as {
    id?: unknown;
    result?: unknown;
    error?: { code?: unknown; message?: unknown; data?: unknown };
  };
  if (typeof r.error?.code === "number" && typeof r.error.message === "string")
    throw RpcError.fromObject({ code: r.error.code, message: r.error.message, data: r.error.data });
  if (r.id !== id || !("result" in r))
    throw new RpcError(
      "InternalError",
      `the daemon's answer is not a JSON-RPC response to this call: ${text.slice(0, 200)}`,
    );
  return r.result;
}

/**
 * Writes `request` on `socket` and resolves with the HTTP answer, the socket's listeners gone.
 * A socket that never connected (`reused`: it had) rejects with DaemonNotRunningError.
 */
function exchange(
  socket: net.Socket,
  socketPath: string,
  request: string,
  reused: boolean,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let connected = reused;
    let received: Buffer = Buffer.alloc(0);
    const handlers = {
      connect: () => {
        connected = true;
      },
      data: (d: Buffer) => {
        received = received.length === 0 ? d : Buffer.concat([received, d]);
        read(false);
      },
      end: () => {
        if (!read(true)) fail(new DaemonConnectionLostError(socketPath, "response cut short"));
      },
      error: (err: NodeJS.ErrnoException) =>
        fail(
          !connected && err.code !== undefined && NOT_RUNNING_CODES.has(err.code)
            ? new DaemonNotRunningError(socketPath, err.code)
            : new DaemonConnectionLostError(socketPath, err.code ?? err.message),
        ),
      close: () => fail(new DaemonConnectionLostError(socketPath, "connection closed")),
    };
    const stop = () => {
      for (const [event, handler] of Object.entries(handlers)) socket.off(event, handler);
    };
    const fail = (err: Error) => {
      stop();
      socket.destroy();
      reject(err);
    };
    const read = (ended: boolean): boolean => {
      let response: HttpResponse | undefined;
      try {
        response = parseResponse(received, ended);
      } catch (err) {
        fail(new RpcError("InternalError", (err as MalformedResponseError).message));
        return true;
      }
      if (!response) return false;
      stop();
      resolve(response);
      return true;
    };
    for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
    socket.write(request);
  });
}

/**
 * Typed JSON-RPC over HTTP/1.1 on the daemon's Unix socket (`POST /rpc`, the route `curl
 * --unix-socket` also uses), written on a `net` socket: a one-shot `wm` loads neither
 * `node:http` nor an agent (docs/performance.md; docs/decisions/0001). One idle connection is
 * kept for the client's next call. Results are typed from the protocol's schemas; the daemon
 * validates them before sending, and here the answer must be a JSON-RPC response to the call.
 */
export class RpcClient {
  #idle: { socket: net.Socket; stop(): void } | undefined;

  constructor(readonly socketPath: string) {}

  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const id = nextId++;
    const body = JSON.stringify({ jsonrpc: "2.0", id, method, params });
    const request = [
      "POST /rpc HTTP/1.1",
      "host: localhost",
      "content-type: application/json",
      `content-length: ${Buffer.byteLength(body)}`,
      `${PROTOCOL_HEADER}: ${PROTOCOL_VERSION}`,
      `${VERSION_HEADER}: ${WM_VERSION}`,
      "",
      body,
    ].join("\r\n");
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.stop();
    idle?.socket.ref();
    const socket = idle?.socket ?? net.connect({ path: this.socketPath });
    const response = await exchange(socket, this.socketPath, request, idle !== undefined);
    if (response.close) socket.destroy();
    else this.#keep(socket);
    return resultOf(response.body.toString("utf8"), id) as Result<M>;
  }

  /** Keeps a connection the daemon left open for the next call; it does not hold the process. */
  #keep(socket: net.Socket): void {
    if (this.#idle || socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    const events = ["data", "end", "error", "close"] as const;
    const drop = () => {
      if (this.#idle?.socket === socket) this.#idle = undefined;
      socket.destroy();
    };
    for (const event of events) socket.on(event, drop);
    socket.unref();
    this.#idle = {
      socket,
      stop: () => {
        for (const event of events) socket.off(event, drop);
      },
    };
  }

  async close(): Promise<void> {
    this.#idle?.socket.destroy();
    this.#idle = undefined;
  }
}
