import http from "node:http";
import type { MethodName, Params, Result } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "@wm/protocol/version";
import type { Endpoint } from "./endpoint.ts";

/** One JSON-RPC call to this sandbox's guest endpoint. */
export function guestCall<M extends MethodName>(
  endpoint: Endpoint,
  method: M,
  params: Params<M>,
): Promise<Result<M>> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  const target =
    endpoint.transport === "socket"
      ? { socketPath: endpoint.socketPath, headers: { host: "localhost" } }
      : {
          host: endpoint.host,
          port: endpoint.port,
          headers: {
            host: `${endpoint.host}:${endpoint.port}`,
            authorization: `Bearer ${endpoint.token}`,
          },
        };
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...(endpoint.transport === "socket"
          ? { socketPath: target.socketPath }
          : { host: endpoint.host, port: endpoint.port }),
        method: "POST",
        path: "/rpc",
        timeout: 10_000,
        headers: {
          ...target.headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          try {
            const msg = JSON.parse(text) as {
              result?: unknown;
              error?: { code: number; message: string; data?: unknown };
            };
            if (msg.error) reject(RpcError.fromObject(msg.error));
            else resolve(msg.result as Result<M>);
          } catch {
            reject(
              new Error(
                `the wm daemon answered with something that is not JSON (HTTP ${res.statusCode})`,
              ),
            );
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("the wm daemon did not answer within 10 s")));
    req.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(`cannot reach the wm daemon from this sandbox (${err.code ?? err.message})`),
      ),
    );
    req.end(body);
  });
}
