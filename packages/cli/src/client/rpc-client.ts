import {
  isFailure,
  type JsonRpcResponse,
  type MethodName,
  methods,
  type Params,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  type Result,
  RpcError,
  VERSION_HEADER,
  WM_VERSION,
} from "@wm/protocol";
import { Client } from "undici";

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

function errnoOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("E")) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

let nextId = 1;

/** Typed JSON-RPC over HTTP on the daemon's Unix socket. */
export class RpcClient {
  readonly #client: Client;

  constructor(readonly socketPath: string) {
    this.#client = new Client("http://localhost", {
      socketPath,
      connectTimeout: 2000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const id = nextId++;
    const body = JSON.stringify({ jsonrpc: "2.0", id, method, params });
    let text: string;
    let sent = false;
    try {
      const res = await this.#client.request({
        path: "/rpc",
        method: "POST",
        headers: {
          "content-type": "application/json",
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
          [VERSION_HEADER]: WM_VERSION,
        },
        body,
      });
      sent = true;
      text = await res.body.text();
    } catch (err) {
      const code = errnoOf(err);
      if (!sent && code !== undefined && NOT_RUNNING_CODES.has(code)) {
        throw new DaemonNotRunningError(this.socketPath, code);
      }
      throw new DaemonConnectionLostError(this.socketPath, code ?? (err as Error).message);
    }
    let response: JsonRpcResponse;
    try {
      response = JSON.parse(text) as JsonRpcResponse;
    } catch {
      throw new RpcError(
        "InternalError",
        `the daemon answered with something that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (isFailure(response)) throw RpcError.fromObject(response.error);
    return methods[method].result.parse(response.result) as Result<M>;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
