import { failure, PROTOCOL_HEADER, RpcError } from "@wm/protocol";
import type { FastifyInstance } from "fastify";
import type { DaemonContext } from "../context.ts";
import type { Dispatcher } from "./dispatch.ts";

export function clientProtocolOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : undefined;
}

const MAX_BATCH = 64;

/** `POST /rpc`: one JSON-RPC request (or a batch) per HTTP request. */
export function registerHttpRoute(
  app: FastifyInstance,
  daemon: DaemonContext,
  dispatcher: Dispatcher,
) {
  app.post("/rpc", async (request, reply) => {
    const body = request.body as string;
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch (err) {
      return reply.send(
        failure(
          null,
          new RpcError(
            "ParseError",
            `request body is not valid JSON: ${(err as Error).message}`,
          ).toJSON(),
        ),
      );
    }
    const opts = {
      surface: "host" as const,
      transport: "http" as const,
      clientProtocol: clientProtocolOf(request.headers[PROTOCOL_HEADER]),
    };
    const call = { daemon, surface: "host" as const };
    if (Array.isArray(message)) {
      if (message.length === 0 || message.length > MAX_BATCH) {
        return reply.send(
          failure(
            null,
            new RpcError("InvalidRequest", `a batch must hold 1 to ${MAX_BATCH} requests`).toJSON(),
          ),
        );
      }
      const responses = await Promise.all(message.map((m) => dispatcher.dispatch(m, call, opts)));
      const answered = responses.filter((r) => r !== undefined);
      return answered.length > 0 ? reply.send(answered) : reply.code(204).send();
    }
    const response = await dispatcher.dispatch(message, call, opts);
    return response ? reply.send(response) : reply.code(204).send();
  });
}
