import type { MethodName, Params, Result } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "@wm/protocol/version";
import type { Endpoint } from "./endpoint.ts";
import { OnceError, requestOnce } from "./http-once.ts";

/** One JSON-RPC call to this sandbox's guest endpoint. */
export async function guestCall<M extends MethodName>(
  endpoint: Endpoint,
  method: M,
  params: Params<M>,
): Promise<Result<M>> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  const headers: Record<string, string> =
    endpoint.transport === "socket"
      ? { host: "localhost" }
      : { host: `${endpoint.host}:${endpoint.port}`, authorization: `Bearer ${endpoint.token}` };
  let res: Awaited<ReturnType<typeof requestOnce>>;
  try {
    res = await requestOnce({
      target:
        endpoint.transport === "socket"
          ? { socketPath: endpoint.socketPath }
          : { host: endpoint.host, port: endpoint.port },
      method: "POST",
      path: "/rpc",
      headers: {
        ...headers,
        "content-type": "application/json",
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      },
      body,
      timeoutMs: 10_000,
    });
  } catch (err) {
    if (err instanceof OnceError && err.code === "ETIMEDOUT")
      throw new Error("the wm daemon did not answer within 10 s");
    const e = err as OnceError;
    throw new Error(`cannot reach the wm daemon from this sandbox (${e.code ?? e.message})`);
  }
  let msg: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  try {
    msg = JSON.parse(res.body) ?? {};
  } catch {
    throw new Error(`the wm daemon answered with something that is not JSON (HTTP ${res.status})`);
  }
  if (msg.error) throw RpcError.fromObject(msg.error);
  return msg.result as Result<M>;
}
