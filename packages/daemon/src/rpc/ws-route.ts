import type { Duplex } from "node:stream";
import { failure, PROTOCOL_HEADER, RpcError, WS_MAX_IN_FLIGHT } from "@wm/protocol";
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import type { CallContext, DaemonContext } from "../context.ts";
import type { Dispatcher } from "./dispatch.ts";
import { clientProtocolOf } from "./http-route.ts";

/** Most messages a connection may have in flight; more are refused (RateLimited), not queued. */
const MAX_IN_FLIGHT = WS_MAX_IN_FLIGHT;

function idOf(message: unknown): string | number | null {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/** `GET /ws`: JSON-RPC over WebSocket for streams and event subscriptions. */
export function registerWsRoute(
  app: FastifyInstance,
  daemon: DaemonContext,
  dispatcher: Dispatcher,
  sockets: Set<WebSocket>,
) {
  app.get("/ws", { websocket: true }, (socket, request) => {
    sockets.add(socket);
    const closers: Array<() => void> = [];
    let inFlight = 0;
    // Answers made in one tick (a pipelining client's) leave in one write, not one each.
    const raw = (socket as unknown as { _socket?: Duplex })._socket;
    let corked = false;
    const send = (payload: unknown) => {
      if (socket.readyState !== socket.OPEN) return;
      if (raw && !corked) {
        corked = true;
        raw.cork();
        process.nextTick(() => {
          corked = false;
          raw.uncork();
        });
      }
      socket.send(JSON.stringify(payload));
    };
    const frameHandlers: Array<(frame: Buffer) => void> = [];
    const call: CallContext = {
      daemon,
      surface: "host",
      notify: (method, params) => send({ jsonrpc: "2.0", method, params }),
      onClose: (fn) => closers.push(fn),
      binary: {
        send: (frame) => {
          if (socket.readyState === socket.OPEN) socket.send(frame, { binary: true });
        },
        onFrame: (fn) => frameHandlers.push(fn),
      },
    };
    const opts = {
      surface: "host" as const,
      transport: "ws" as const,
      clientProtocol: clientProtocolOf(request.headers[PROTOCOL_HEADER]),
    };
    socket.on("message", async (data, isBinary) => {
      if (isBinary) {
        const frame = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
        for (const fn of frameHandlers) fn(frame);
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(
          isBinary ? Buffer.from(data as Buffer).toString("utf8") : String(data),
        );
      } catch (err) {
        send(
          failure(
            null,
            new RpcError(
              "ParseError",
              `message is not valid JSON: ${(err as Error).message}`,
            ).toJSON(),
          ),
        );
        return;
      }
      if (inFlight >= MAX_IN_FLIGHT) {
        // Answered, with the request's id, so the caller's call ends instead of waiting forever.
        send(
          failure(
            idOf(message),
            new RpcError(
              "RateLimited",
              `more than ${MAX_IN_FLIGHT} calls in flight on one connection`,
            ).toJSON(),
          ),
        );
        return;
      }
      inFlight++;
      try {
        const response = await dispatcher.dispatch(message, call, opts);
        if (response) send(response);
      } finally {
        inFlight--;
      }
    });
    socket.on("close", () => {
      sockets.delete(socket);
      for (const fn of closers.splice(0)) fn();
      daemon.log.debug("websocket closed");
    });
  });
}
