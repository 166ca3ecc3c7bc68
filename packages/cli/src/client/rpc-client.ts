import http from "node:http";
import type { JsonRpcResponse, MethodName, Params, Result } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  VERSION_HEADER,
  WM_VERSION,
} from "@wm/protocol/version";

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

/**
 * Typed JSON-RPC over HTTP on the daemon's Unix socket. Built on node:http with a keep-alive
 * agent: it is part of Node's startup snapshot, so a short-lived CLI pays nothing to load it
 * (see docs/decisions/0001). Results are typed from the protocol's schemas; the daemon
 * validates them before sending.
 */
export class RpcClient {
  readonly #agent: http.Agent;

  constructor(readonly socketPath: string) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const body = JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params });
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          agent: this.#agent,
          method: "POST",
          path: "/rpc",
          headers: {
            host: "localhost",
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
            [VERSION_HEADER]: WM_VERSION,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) =>
            reject(new DaemonConnectionLostError(this.socketPath, err.message)),
          );
          res.on("end", () => {
            if (!res.complete) {
              reject(new DaemonConnectionLostError(this.socketPath, "response cut short"));
              return;
            }
            const text = Buffer.concat(chunks).toString("utf8");
            let response: JsonRpcResponse;
            try {
              response = JSON.parse(text) as JsonRpcResponse;
            } catch {
              reject(
                new RpcError(
                  "InternalError",
                  `the daemon answered with something that is not JSON: ${text.slice(0, 200)}`,
                ),
              );
              return;
            }
            if ("error" in response) reject(RpcError.fromObject(response.error));
            else resolve(response.result as Result<M>);
          });
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== undefined && NOT_RUNNING_CODES.has(err.code)) {
          reject(new DaemonNotRunningError(this.socketPath, err.code));
        } else {
          reject(new DaemonConnectionLostError(this.socketPath, err.code ?? err.message));
        }
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}
